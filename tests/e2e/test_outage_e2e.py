"""Outages and shutdowns. Podman's service killed while pods run: requests that need it
get a clear 503 at once, the others are served from the store, the pods keep running,
and once podyard has restarted the service it sees and drives the pods again. SIGTERM:
streams end with a message, podyard exits cleanly, and the pods keep running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import JdError, container, pod_spec
from drive.wsjdc import JdcStream

pytestmark = pytest.mark.e2e


@pytest.fixture
def gated(podyard: Podyard, tmp_path: Path) -> Iterator[Path]:
    """podyard restarted with a `podman` that refuses to start while the gate file exists."""
    gate = tmp_path / "closed"
    wrapper = tmp_path / "podman"
    wrapper.write_text(f'#!/bin/sh\n[ -e "{gate}" ] && exit 1\nexec podman "$@"\n')
    wrapper.chmod(0o755)
    podyard.stop()
    podyard.env["PODYARD_PODMAN"] = str(wrapper)
    podyard.start()
    try:
        yield gate
    finally:
        gate.unlink(missing_ok=True)
        podyard.stop()
        del podyard.env["PODYARD_PODMAN"]
        podyard.start()


def test_requests_get_503_while_podman_is_down_and_pods_are_readopted(
    podyard: Podyard, image: str, gated: Path
) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account,
            f"outage-{uuid.uuid4().hex[:6]}",
            [container(image=image, command=["sh", "-c", "exec sleep 100000"])],
            terminationGracePeriodSeconds=0,
        )
    )
    wait_phase(jd, pod_id, "running")
    service = podyard.podman_service
    pid = int((service.run_dir / "podman.pid").read_text())

    gated.touch()  # the restarts fail until the gate opens
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid), 10, "the service gone")

    started = time.monotonic()
    with pytest.raises(JdError) as e:
        jd.call("execCreate", pod_id, "app", ["true"])
    assert time.monotonic() - started < 5  # not a hang
    assert (e.value.code, e.value.status) == (503, "UNAVAILABLE") and "retry" in e.value.message
    # What the store knows is served; the pod runs on (conmon keeps it).
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "running"
    # A stop asked meanwhile is carried out once the service is back.
    jd.call("stopPod", pod_id)

    gated.unlink()
    wait_phase(jd, pod_id, "stopped", timeout=90)
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "exited"
    jd.call("startPod", pod_id)
    wait_phase(jd, pod_id, "running")
    exec_id = jd.call("execCreate", pod_id, "app", ["true"])["execId"]
    assert exec_id
    # The event stream is followed again: a container killed behind podyard's back shows.
    podyard.podman("kill", f"{pod_id}-app")
    wait_for(lambda: jd.pod(pod_id)["containers"][0]["containerStatus"]["restartCount"] >= 1, 60, "the restart")
    jd.call("deletePod", pod_id)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return "zombie"


def test_sigterm_ends_streams_with_a_message_and_leaves_pods_running(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account,
            f"term-{uuid.uuid4().hex[:6]}",
            [container(image=image, command=["sleep", "100000"])],
            terminationGracePeriodSeconds=0,
        )
    )
    before = wait_phase(jd, pod_id, "running")["containers"][0]["containerStatus"]["state"]["running"]
    exec_id = jd.call("execCreate", pod_id, "app", ["sh", "-c", "echo ready; exec sleep 99999"])["execId"]
    stream = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    stream.read_until(b"ready")

    assert podyard.proc is not None
    podyard.proc.send_signal(signal.SIGTERM)
    got = stream.read_to_end(timeout=30)
    assert any("shutting down" in e for e in got.errors), got
    # A clean exit: the shutdown ran to its end (uvicorn then re-raises the signal, so the
    # exit status says SIGTERM, as for a process without handlers).
    assert podyard.proc.wait(60) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in podyard.log.read_text().rsplit("Shutting down", 1)[-1]
    # The pod runs on; the abandoned exec's process was ended.
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "running"
    assert "sleep 99999" not in podyard.podman("exec", f"{pod_id}-app", "ps", "-o", "args")

    podyard.start()
    after = wait_phase(jd, pod_id, "running")["containers"][0]["containerStatus"]["state"]["running"]
    assert after["startedAt"] == before["startedAt"]  # the very same run, re-adopted
    jd.call("deletePod", pod_id)


def test_down_refuses_a_podyard_that_runs(podyard: Podyard) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "podyard", "down", "--data-dir", str(podyard.data_dir)],
        env=podyard.env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode != 0 and "stop it first" in r.stderr, r
    assert podyard.jd().pods()  # still serving, nothing removed
