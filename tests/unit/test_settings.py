"""Settings refused at load, and the launch decisions they make (TLS or plain HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from podyard.config import Settings, load_settings


def test_a_runtime_podyard_cannot_honour_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(data_dir=tmp_path, runtime="podman").runtime == "podman"
    for runtime in ("kubernetes", "fake", "docker", ""):
        with pytest.raises(ValidationError, match="podyard runs pods on podman only"):
            Settings(data_dir=tmp_path, runtime=runtime)
    with pytest.raises(SystemExit, match=r"invalid settings: runtime: .*'kubernetes' is not available"):
        load_settings(None, data_dir=tmp_path, runtime="kubernetes")
    monkeypatch.setenv("PODYARD_RUNTIME", "kubernetes")
    with pytest.raises(SystemExit, match="runtime"):
        load_settings(None, data_dir=tmp_path)
    monkeypatch.delenv("PODYARD_RUNTIME")
    (tmp_path / "podyard.toml").write_text('runtime = "kubernetes"\n')
    with pytest.raises(SystemExit, match="runtime"):
        load_settings(None, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("listen", "tls", "expected"),
    [
        ("127.0.0.1:8000", "auto", False),
        ("127.5.6.7:8000", "auto", False),
        ("localhost:8000", "auto", False),
        ("[::1]:8000", "auto", False),
        ("0.0.0.0:8443", "auto", True),
        ("[::]:8443", "auto", True),
        ("192.0.2.10:8443", "auto", True),
        ("pods.example:8443", "auto", True),
        ("127.0.0.1:8443", "on", True),
        ("0.0.0.0:8000", "off", False),
    ],
)
def test_tls_unless_loopback(tmp_path: Path, listen: str, tls: str, expected: bool) -> None:
    assert Settings(data_dir=tmp_path, listen=listen, tls=tls).serves_tls is expected


def test_tls_files_go_together(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(data_dir=tmp_path, tls_cert=tmp_path / "c.pem")
    with pytest.raises(ValidationError, match="tls is off"):
        Settings(data_dir=tmp_path, tls="off", tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    with pytest.raises(SystemExit, match="tls"):
        load_settings(None, data_dir=tmp_path, tls="sometimes")
