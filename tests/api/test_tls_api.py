"""podyard over TLS, on the fake runtime: the official SDK (``scheme="https"``) and jdc
(``--scheme https``) with the generated CA trusted through ``REQUESTS_CA_BUNDLE``; a
client that does not trust it fails; the certificate is the same after a restart; and
jdc's exec, which always opens ``ws://``, through a local TLS wrapper: the README's socat
command. (A threaded Python wrapper stood in for socat until its handshakes hung twice
under the suite's load, likely as one thread closed a TLS socket another still read.)"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import websocket

from drive.jd import REGION, Jd, container, pod_spec
from drive.wsjdc import JdcStream
from podyard.runtime.fake import FakeRuntime
from tests.conftest import FakeServer
from tests.served import served, settings_for

JDC = Path(__file__).resolve().parents[2] / ".venv-jdc" / "bin" / "jdc"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[FakeServer, Path]]:
    """A podyard serving TLS with the pair it made itself; (server, CA file)."""
    with served(settings_for(tmp_path / "data", tls="on"), FakeRuntime(tmp_path / "logs")) as (server, tls):
        assert tls is not None and tls.ca_file is not None
        yield server, tls.ca_file


def served_fingerprint(endpoint: str) -> str:
    host, _, port = endpoint.rpartition(":")
    pem = ssl.get_server_certificate((host, int(port)))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).digest().hex(":").upper()


def test_the_sdk_over_https_trusting_the_ca(tls_server, monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    jd = Jd(server.endpoint, server.admin, scheme="https")
    [pod_id] = jd.create_pods(pod_spec(jd.account, "tls", [container(command=["sleep", "1000"])]))
    server.settle()
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    assert jd.pods()["totalCount"] == 1


def test_a_client_that_does_not_trust_the_certificate_fails(tls_server, monkeypatch: pytest.MonkeyPatch) -> None:
    server, _ = tls_server
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        Jd(server.endpoint, server.admin, scheme="https").pods()
    # What jdc 1.2.9 does for exec-start and attach: plain ws:// to the TLS port. No answer.
    url = f"ws://{server.endpoint}/v1/regions/{REGION}/pods/pod-x/containers/app:attach"
    with pytest.raises((websocket.WebSocketException, OSError)):
        websocket.create_connection(url, timeout=5)


def test_the_certificate_is_kept_across_restarts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path / "data", tls="on")
    with served(settings, FakeRuntime(tmp_path / "logs")) as (server, first):
        assert first is not None and first.issued and first.ca_file is not None
        assert served_fingerprint(server.endpoint) == first.fingerprint
    ca = first.ca_file.read_bytes()
    for key in (first.key_file, first.ca_file.with_name("ca-key.pem")):
        assert key.stat().st_mode & 0o777 == 0o600
    with served(settings, FakeRuntime(tmp_path / "logs")) as (server, again):
        assert again is not None and not again.issued
        assert again.fingerprint == first.fingerprint == served_fingerprint(server.endpoint)
        assert again.ca_file is not None and again.ca_file.read_bytes() == ca
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(again.ca_file))
        assert Jd(server.endpoint, server.admin, scheme="https").pods()["totalCount"] == 0


def jdc_env(home: Path, server: FakeServer, endpoint: str, scheme: str, **env: str) -> dict[str, str]:
    if not JDC.exists():
        pytest.fail("the jdc CLI is not installed: scripts/bootstrap --test installs it in .venv-jdc")
    full = {**os.environ, "HOME": str(home), **env}
    a = server.admin
    args = ["--profile", "podyard", "--access-key", a.access_key, "--secret-key", a.secret_key]
    args += ["--region-id", REGION, "--endpoint", endpoint, "--scheme", scheme]
    subprocess.run([str(JDC), "configure", "add", *args], env=full, check=True, capture_output=True)
    return full


def jdc_json(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([str(JDC), *args], env=env, capture_output=True, text=True, check=True, timeout=60).stdout
    return dict(json.loads(out[out.index("{") : out.rindex("}") + 1]))


def test_jdc_over_https(tls_server, tmp_path: Path) -> None:
    server, ca = tls_server
    env = jdc_env(tmp_path / "home", server, server.endpoint, "https", REQUESTS_CA_BUNDLE=str(ca))
    answer = jdc_json(env, "pod", "describe-pods")
    assert answer["error"] is None and answer["result"]["totalCount"] == 0


class TlsWrapper:
    """The README's ``socat TCP-LISTEN:PORT,bind=127.0.0.1,reuseaddr,fork OPENSSL:HOST:PORT,cafile=CA``:
    plain TCP on this host's loopback, TLS (verified against the CA) to podyard."""

    def __init__(self, target: str, cafile: Path) -> None:
        if shutil.which("socat") is None:
            pytest.fail("socat is not installed: scripts/bootstrap --test installs it")
        with socket.create_server(("127.0.0.1", 0)) as probe:  # a free port for socat to listen on
            port = probe.getsockname()[1]
        self.endpoint = f"127.0.0.1:{port}"
        self.process = subprocess.Popen(
            ["socat", f"TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork", f"OPENSSL:{target},cafile={cafile}"],
            stderr=subprocess.PIPE,
        )
        # Ready when the port answers; socat's own error when it cannot listen.
        for _ in range(1500):
            if self.process.poll() is not None:
                pytest.fail(f"socat ended: {self.process.stderr.read() if self.process.stderr else ''!r}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.02)
        pytest.fail("socat did not listen within 30 s")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def test_jdc_exec_through_a_local_tls_wrapper(tls_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server, ca = tls_server
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca))
    jd = Jd(server.endpoint, server.admin, scheme="https")
    [pod_id] = jd.create_pods(pod_spec(jd.account, "sh", [container(command=["sleep", "1000"])]))
    server.settle()
    wrapper = TlsWrapper(server.endpoint, ca)
    try:
        # jdc's profile names the wrapper, plain: its https calls and its ws:// streams both
        # go through it, and travel to podyard in TLS. Signatures name the wrapper's host.
        env = jdc_env(tmp_path / "home", server, wrapper.endpoint, "http")
        created = jdc_json(env, "pod", "exec-create", "--pod-id", pod_id, "--container-name", "app", "--command",
                           '["cat"]')  # fmt: skip
        exec_id = created["result"]["execId"]
        started = subprocess.run(
            [str(JDC), "pod", "exec-start", "--pod-id", pod_id, "--container-name", "app", "--exec-id", exec_id],
            env=env,
            input="piped-through-tls",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "piped-through-tls" in started.stdout, started
        assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}
        # The same with the client of drive/wsjdc.py (jdc's protocol, byte for byte).
        echo = jd.call("execCreate", pod_id, "app", ["echo", "hello"])["execId"]
        got = JdcStream(wrapper.endpoint, jd.account, pod_id, "app", "execStart", echo).read_to_end(10)
        assert got.stdout == b"hello\n" and not got.errors
    finally:
        wrapper.close()
