"""The certificate ``podyard serve`` serves: made once (a CA and a server certificate it
signed, keys 0600), reused after, issued again by the same CA when a name is missing or
the end is near; the operator's own pair used as given."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from podyard.config import Settings
from podyard.tls import ensure_pair, server_tls, wanted_names

NAMES = ["127.0.0.1", "::1", "localhost", "podyard.test"]


def san(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(v) for v in names.get_values_for_type(x509.DNSName) + names.get_values_for_type(x509.IPAddress)}


def test_made_once_then_reused(tmp_path: Path) -> None:
    first = ensure_pair(tmp_path / "tls", NAMES)
    assert first.issued and first.ca_file is not None
    again = ensure_pair(tmp_path / "tls", NAMES)
    assert not again.issued and again.fingerprint == first.fingerprint
    assert (tmp_path / "tls").stat().st_mode & 0o777 == 0o700
    for key in ("ca-key.pem", "server-key.pem"):
        assert (tmp_path / "tls" / key).stat().st_mode & 0o777 == 0o600
    assert san(first.cert_file) == set(NAMES)
    # The pair is what a TLS server loads, and the CA is what a client verifies it with.
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(first.cert_file, first.key_file)
    ca = x509.load_pem_x509_certificate(first.ca_file.read_bytes())
    x509.load_pem_x509_certificate(first.cert_file.read_bytes()).verify_directly_issued_by(ca)


def test_a_missing_name_or_a_near_end_issues_again_under_the_same_ca(tmp_path: Path) -> None:
    first = ensure_pair(tmp_path / "tls", NAMES)
    assert first.ca_file is not None
    ca = first.ca_file.read_bytes()
    wider = ensure_pair(tmp_path / "tls", [*NAMES, "pods.example", "192.0.2.7"])
    assert wider.issued and wider.fingerprint != first.fingerprint
    assert {"pods.example", "192.0.2.7"} <= san(wider.cert_file)
    assert first.ca_file.read_bytes() == ca
    late = ensure_pair(tmp_path / "tls", NAMES, now=datetime.now(UTC) + timedelta(days=800))
    assert late.issued and first.ca_file.read_bytes() == ca


def test_names_of_the_listen_address_endpoint_and_extra(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, listen="0.0.0.0:8443", endpoint="pods.example:443", tls_names=["10.1.2.3"])
    names = wanted_names(s)
    assert {"pods.example", "10.1.2.3", "localhost", "127.0.0.1", "::1"} <= set(names)
    assert "0.0.0.0" not in names


def test_plain_http_on_loopback_and_the_operators_pair(tmp_path: Path) -> None:
    assert server_tls(Settings(data_dir=tmp_path, listen="127.0.0.1:8000")) is None
    made = ensure_pair(tmp_path / "theirs", NAMES)
    settings = Settings(
        data_dir=tmp_path / "data", listen="0.0.0.0:8443", tls_cert=made.cert_file, tls_key=made.key_file
    )
    given = server_tls(settings)
    assert given is not None and given.ca_file is None and given.fingerprint == made.fingerprint
    assert given.cert_file == made.cert_file and not (tmp_path / "data" / "tls").exists()


def test_serve_speaks_tls_off_loopback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launch decision of ``podyard serve``: the uvicorn it would run, without running it."""
    import uvicorn
    from click.testing import CliRunner

    from podyard.cli import main

    configs: list[uvicorn.Config] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, *a, **k: configs.append(self.config))
    runner = CliRunner()
    for args in (["--listen", "0.0.0.0:8443"], ["--listen", "127.0.0.1:8000"], ["--listen", "[::]:80", "--tls", "off"]):
        done = runner.invoke(main, ["serve", "--data-dir", str(tmp_path / "d"), *args])
        assert done.exit_code == 0, done.output
    public, loopback, off = configs
    assert public.ssl_certfile == tmp_path / "d" / "tls" / "server.pem"
    assert public.ssl_keyfile == tmp_path / "d" / "tls" / "server-key.pem"
    assert loopback.ssl_certfile is None and loopback.ssl_keyfile is None
    assert off.ssl_certfile is None
