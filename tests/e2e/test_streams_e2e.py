"""Logs, exec, attach and resize for real: the official SDK, a client speaking the jdc
WebSocket protocol, and the real jdc CLI in a pseudo-terminal, against Podman."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pexpect
import pytest

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import Jd, JdError, container, pod_spec
from drive.wsjdc import JdcStream

pytestmark = pytest.mark.e2e
JDC = Path(__file__).resolve().parents[2] / ".venv-jdc" / "bin" / "jdc"


def sleeper(podyard: Podyard, image: str, tty: bool = False, command: list[str] | None = None) -> tuple[Jd, str]:
    jd = podyard.jd()
    spec = pod_spec(
        jd.account,
        f"st-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=command or ["sleep", "100000"], tty=tty)],
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    return jd, pod_id


def test_logs_for_real(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    script = "echo first; sleep 2; echo second >&2; sleep 2; echo third; exit 1"
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account,
            f"logs-{uuid.uuid4().hex[:6]}",
            [container(image=image, command=["sh", "-c", script])],
            restartPolicy="Never",
        )
    )
    wait_phase(jd, pod_id, "stopped")  # logs of a stopped container stay readable
    logs = lambda **q: jd.call("getContainerLogs", pod_id, "app", **q)["logs"]["content"]  # noqa: E731
    assert logs() == "first\nsecond\nthird\n"
    assert logs(tailLines=1) == "third\n"
    assert logs(tailLines=2, limitBytes=4) == "seco"
    # When each line was written, as conmon stamped it: the time limits go between them.
    stamps = [
        datetime.fromisoformat(line.split(" ", 1)[0])
        for line in (podyard.data_dir / "logs" / pod_id / "app.log").read_text().splitlines()
    ]
    assert len(stamps) == 3
    between = lambda a, b: (a + (b - a) / 2).isoformat()  # noqa: E731
    after_first, after_second = between(stamps[0], stamps[1]), between(stamps[1], stamps[2])
    assert logs(endTime=after_first) == "second\nthird\n"  # endTime: the lower limit (the docs)
    assert logs(endTime=after_first, startTime=after_second) == "second\n"  # startTime: the upper limit
    since = int((datetime.now(UTC) - stamps[2]).total_seconds()) + 1
    assert logs(sinceSeconds=since) == "third\n"

    [again] = jd.create_pods(
        pod_spec(
            jd.account,
            f"relog-{uuid.uuid4().hex[:6]}",
            [container(image=image, command=["sh", "-c", "echo run; exit 1"])],
            restartPolicy="OnFailure",
        )
    )
    assert wait_for(lambda: jd.call("getContainerLogs", again, "app")["logs"]["content"].count("run\n") >= 2, 60)
    jd.call("stopPod", again)
    wait_phase(jd, again, "stopped")
    log_dir = podyard.data_dir / "logs" / again
    assert (log_dir / "app.log").exists()
    jd.call("deletePod", again)
    wait_for(lambda: not log_dir.exists(), 60, "the logs to go with the pod")


def test_logs_rotate_at_10_mb(podyard: Podyard, image: str) -> None:
    line = "x" * 99
    jd, pod_id = sleeper(
        podyard, image, command=["sh", "-c", f"yes {line} | head -n 130000; echo the-end; exec sleep 100000"]
    )
    current = podyard.data_dir / "logs" / pod_id / "app.log"
    assert wait_for(
        lambda: current.with_name("app.log.1").exists() and b"the-end" in current.read_bytes()[-200:], 90, "a rotation"
    )
    assert current.with_name("app.log.1").stat().st_size > 9 * 1024 * 1024
    assert current.stat().st_size < 10 * 1024 * 1024
    assert jd.call("getContainerLogs", pod_id, "app", tailLines=1)["logs"]["content"] == "the-end\n"
    assert jd.call("getContainerLogs", pod_id, "app", tailLines=2)["logs"]["content"] == f"{line}\nthe-end\n"
    assert len(jd.call("getContainerLogs", pod_id, "app")["logs"]["content"]) == 4096  # the documented cap


def test_interactive_shell(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image)
    exec_id = jd.call("execCreate", pod_id, "app", ["sh"])["execId"]
    s = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    s.send("echo $((6*7))\n")
    assert b"42\n" in s.read_until(b"42\n").stdout
    s.send("echo oops >&2; ls /nonexistent; exit 3\n")
    got = s.read_to_end()
    assert "oops" in got.stderr and "nonexistent" in got.stderr and not got.errors
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 3}


def test_tty_and_resize(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image)
    exec_id = jd.call("execCreate", pod_id, "app", ["sh"], tty=True)["execId"]
    s = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    s.read_until(b"# ")
    jd.call("resizeTTY", pod_id, "app", 33, 111, execId=exec_id)
    s.send("stty size\r")
    assert b"33 111" in s.read_until(b"33 111").stdout
    jd.call("resizeTTY", pod_id, "app", 50, 200, execId=exec_id)
    s.send("stty size; exit 4\r")
    assert b"50 200" in s.read_to_end().stdout
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 4}
    # The container's own TTY: resized without an execId, seen by its main process.
    jd2, shell = sleeper(podyard, image, tty=True, command=["sh"])
    jd2.call("resizeTTY", shell, "app", 20, 70)
    a = JdcStream(podyard.endpoint, jd2.account, shell, "app", "attach")
    a.send("stty size\r")
    assert b"20 70" in a.read_until(b"20 70").stdout
    a.close()


def test_piped_stdin_without_tty(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image)
    exec_id = jd.call("execCreate", pod_id, "app", ["sh", "-c", "wc -c"])["execId"]
    s = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    data = os.urandom(100_000)
    for i in range(0, len(data), 16_384):
        s.send(data[i : i + 16_384])
    s.end_input()
    assert s.read_to_end().stdout.strip() == b"100000"
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_50_mb_arrive_intact_with_flat_memory(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image)
    app = f"{pod_id}-app"
    podyard.podman("exec", app, "sh", "-c", "dd if=/dev/urandom of=/tmp/big bs=1048576 count=50 2>/dev/null")
    want = podyard.podman("exec", app, "sha256sum", "/tmp/big").split()[0]
    assert podyard.proc is not None
    before = rss_kib(podyard.proc.pid)
    peak = before
    exec_id = jd.call("execCreate", pod_id, "app", ["cat", "/tmp/big"])["execId"]
    s = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    digest, size, frames = hashlib.sha256(), 0, 0
    while True:
        s.got.stdout = b""
        s.read_one(60)
        digest.update(s.got.stdout)
        size += len(s.got.stdout)
        frames += 1
        if frames % 50 == 0:
            peak = max(peak, rss_kib(podyard.proc.pid))
            time.sleep(0.05)  # a slow reader: podyard must not buffer what it cannot send
        if s.got.closed:
            break
    assert size == 50 * 1024 * 1024 and digest.hexdigest() == want
    assert not s.got.errors
    assert peak - before < 40 * 1024, f"podyard grew by {(peak - before) // 1024} MB while relaying 50 MB"
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}


def test_a_client_that_leaves_leaves_no_process(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image)
    marker = str(1000 + uuid.uuid4().int % 8000)
    exec_id = jd.call("execCreate", pod_id, "app", ["sh", "-c", f"sleep {marker} & sleep {marker}"])["execId"]
    s = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    assert wait_for(lambda: f"sleep {marker}" in podyard.podman("exec", f"{pod_id}-app", "ps"), 20)
    s.close()
    wait_for(
        lambda: f"sleep {marker}" not in podyard.podman("exec", f"{pod_id}-app", "ps"),
        20,
        "the exec'd processes to end",
    )
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"


def test_attach_with_two_clients(podyard: Podyard, image: str) -> None:
    jd, pod_id = sleeper(podyard, image, tty=True, command=["sh"])
    a = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "attach")
    b = JdcStream(podyard.endpoint, jd.account, pod_id, "app", "attach")  # attached once connected
    a.send("echo from-$((40+2))\r")
    assert b"from-42" in a.read_until(b"from-42").stdout
    assert b"from-42" in b.read_until(b"from-42").stdout
    a.close()
    b.close()
    time.sleep(1)
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "running"


def test_stream_refusals(podyard: Podyard, image: str) -> None:
    import websocket

    from drive.jd import Account

    jd, pod_id = sleeper(podyard, image)
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", "exec-nosuchexec")
    assert e.value.status_code == 404
    exec_id = jd.call("execCreate", pod_id, "app", ["true"])["execId"]
    other = Account.from_creds(json.loads(podyard.accounts("create", f"other-{uuid.uuid4().hex[:6]}", "--json")))
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        JdcStream(podyard.endpoint, other, pod_id, "app", "execStart", exec_id)
    assert e.value.status_code == 404
    url = f"ws://{podyard.endpoint}/v1/regions/cn-north-1/pods/{pod_id}/containers/app:execStart?execId={exec_id}"
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(url, timeout=5)
    assert e.value.status_code == 401
    for h, w in ((9, 80), (24, 1001)):
        with pytest.raises(JdError) as je:
            jd.call("resizeTTY", pod_id, "app", h, w)
        assert je.value.code == 400
    more = [jd.call("execCreate", pod_id, "app", ["true"])["execId"] for _ in range(7)]  # 8 with the first
    with pytest.raises(JdError) as je:
        jd.call("execCreate", pod_id, "app", ["true"])
    assert je.value.code == 429
    assert JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", more[0]).read_to_end().closed
    jd.call("stopPod", pod_id)
    wait_phase(jd, pod_id, "stopped")
    with pytest.raises(JdError, match="not running") as je:
        jd.call("execCreate", pod_id, "app", ["sh"])
    assert je.value.code == 400
    assert "sleep" not in jd.call("getContainerLogs", pod_id, "app")["logs"]["content"]


@pytest.fixture
def jdc(podyard: Podyard, tmp_path: Path) -> dict[str, str]:
    if not JDC.exists():
        pytest.fail("the jdc CLI is not installed: scripts/bootstrap --test installs it in .venv-jdc")
    env = {**os.environ, "HOME": str(tmp_path)}
    a = podyard.admin
    args = ["--profile", "podyard", "--access-key", a.access_key, "--secret-key", a.secret_key]
    args += ["--region-id", "cn-north-1", "--endpoint", podyard.endpoint, "--scheme", "http"]
    subprocess.run([str(JDC), "configure", "add", *args], env=env, check=True, capture_output=True)
    return env


def type_into(child: pexpect.spawn, text: str) -> None:
    """Key by key, as a person types: jdc reads its terminal one character per select()."""
    for ch in text:
        child.send(ch)
        time.sleep(0.02)


def jdc_json(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([str(JDC), *args], env=env, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out[out.index("{") : out.rindex("}") + 1]))


def test_the_real_jdc_cli(podyard: Podyard, image: str, jdc: dict[str, str]) -> None:
    _jd, pod_id = sleeper(podyard, image)
    created = jdc_json(
        jdc, "pod", "exec-create", "--pod-id", pod_id, "--container-name", "app", "--command", '["sh"]', "--tty", "true"
    )
    exec_id = created["result"]["execId"]
    child = pexpect.spawn(
        str(JDC),
        ["pod", "exec-start", "--pod-id", pod_id, "--container-name", "app", "--exec-id", exec_id],
        env=jdc,
        timeout=30,
        dimensions=(40, 120),
    )
    child.expect("# ")
    type_into(child, "echo $((6*7))\r")
    child.expect("42")
    # jdc never sends its terminal's size (its SIGWINCH handler drops the pod id); its own
    # resize-tty command sets it, and the shell inside sees it.
    jdc_json(jdc, "pod", "resize-tty", "--pod-id", pod_id, "--container-name", "app", "--exec-id", exec_id,
             "--height", "33", "--width", "99")  # fmt: skip
    type_into(child, "stty size\r")
    child.expect("33 99")
    type_into(child, "exit 5\r")
    child.expect(pexpect.EOF)
    assert jdc_json(
        jdc, "pod", "exec-get-exit-code", "--pod-id", pod_id, "--container-name", "app", "--exec-id", exec_id
    )["result"] == {"execCode": 5}

    # Piped stdin: jdc sends it all, then 0x04; podyard closes when the process ends.
    cat = jdc_json(jdc, "pod", "exec-create", "--pod-id", pod_id, "--container-name", "app", "--command", '["cat"]')[
        "result"
    ]["execId"]
    piped = pexpect.spawn(
        "/bin/sh",
        ["-c", f"printf piped-data | {JDC} pod exec-start --pod-id {pod_id} --container-name app --exec-id {cat}"],
        env=jdc,
        timeout=30,
    )
    piped.expect("piped-data")
    piped.expect(pexpect.EOF)

    logs = jdc_json(
        jdc, "pod", "get-container-logs", "--pod-id", pod_id, "--container-name", "app", "--tail-lines", "5"
    )
    assert logs["error"] is None


def test_the_real_jdc_attach(podyard: Podyard, image: str, jdc: dict[str, str]) -> None:
    jd, pod_id = sleeper(podyard, image, tty=True, command=["sh"])
    child = pexpect.spawn(
        str(JDC), ["pod", "attach", "--pod-id", pod_id, "--container-name", "app"], env=jdc, timeout=30
    )
    # jdc connects, then puts its terminal in raw mode with TCSAFLUSH, which discards
    # whatever was typed before: type only once it has (its terminal stops echoing).
    assert child.waitnoecho(timeout=30)
    type_into(child, "echo attached-$((1+1))\r")
    child.expect("attached-2")
    # An idle shell stays open past a WebSocket keep-alive period: jdc cannot take a
    # ping while idle (it then waits 10 s for data and gives up), so podyard sends none.
    time.sleep(32)
    type_into(child, "echo still-$((2+2))\r")
    child.expect("still-4")
    child.terminate(force=True)
    time.sleep(1)
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
