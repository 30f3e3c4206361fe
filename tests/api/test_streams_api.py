"""Logs, exec, attach and resize through the official SDK and the jdc WebSocket protocol,
on the fake runtime: the wire, the bounds and every refusal."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import websocket

from drive.harness import wait_for
from drive.jd import JdError, container, pod_spec
from drive.wsjdc import JdcStream


def running_pod(server, name: str = "s", tty: bool = False) -> str:
    jd = server.jd()
    [pod_id] = jd.create_pods(pod_spec(jd.account, name, [container(command=["sleep", "1000"], tty=tty)]))
    server.settle()
    return pod_id


def test_logs_options(fake_server) -> None:
    jd = fake_server.jd()
    pod_id = running_pod(fake_server)
    t0 = datetime.now(UTC) - timedelta(minutes=10)
    for minute in range(10):
        fake_server.runtime.emit(pod_id, "app", f"line {minute}", at=t0 + timedelta(minutes=minute))
    fake_server.runtime.emit(pod_id, "app", "oops", stream="stderr", at=t0 + timedelta(minutes=9, seconds=30))
    logs = lambda **q: jd.call("getContainerLogs", pod_id, "app", **q)["logs"]["content"]  # noqa: E731
    assert logs().splitlines() == [f"line {m}" for m in range(10)] + ["oops"]
    assert logs(tailLines=2) == "line 9\noops\n"
    assert logs(limitBytes=10) == "line 0\nlin"
    assert logs(sinceSeconds=150).splitlines() == ["line 8", "line 9", "oops"]
    # The docs: startTime is the upper limit of log time, endTime the lower.
    lower, upper = (t0 + timedelta(minutes=3)).isoformat(), (t0 + timedelta(minutes=5)).isoformat()
    assert logs(endTime=lower, startTime=upper).splitlines() == ["line 3", "line 4", "line 5"]
    assert logs(endTime=lower, startTime=upper, tailLines=1) == "line 5\n"
    assert logs(endTime=lower, tailLines=2, limitBytes=8) == "line 9\no"  # the limit cuts the selection
    assert logs(tailLines=0) == ""
    for bad in (
        {"tailLines": -1},
        {"sinceSeconds": 0},
        {"limitBytes": 4097},
        {"limitBytes": 0},
        {"startTime": "yesterday"},
        {"startTime": lower, "endTime": upper},
    ):
        with pytest.raises(JdError) as e:
            jd.call("getContainerLogs", pod_id, "app", **bad)
        assert e.value.code == 400, bad
    with pytest.raises(JdError) as e:
        jd.call("getContainerLogs", pod_id, "nope")
    assert e.value.code == 404


def test_exec_over_the_jdc_protocol(fake_server) -> None:
    jd = fake_server.jd()
    pod_id = running_pod(fake_server)
    exec_id = jd.call("execCreate", pod_id, "app", ["echo", "hello"])["execId"]
    s = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    got = s.read_to_end(10)
    assert got.stdout == b"hello\n" and not got.errors
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}

    cat = jd.call("execCreate", pod_id, "app", ["cat"])["execId"]
    s = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", cat)
    s.send("abc")
    s.end_input()  # jdc with piped stdin: all of it, then 0x04
    assert s.read_to_end(10).stdout == b"abc"

    failing = jd.call("execCreate", pod_id, "app", ["false"])["execId"]
    JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", failing).read_to_end(10)
    assert jd.call("execGetExitCode", pod_id, "app", failing) == {"execCode": 1}
    # The runtime forgets ended execs soon (Podman: exit_command_delay); the code stays.
    session = fake_server.app.ctx.sessions.by_id[failing]
    wait_for(lambda: fake_server.in_loop(lambda: session.ended_at is not None), 10, "the session to end")
    fake_server.in_loop(fake_server.runtime.execs.clear)
    assert jd.call("execGetExitCode", pod_id, "app", failing) == {"execCode": 1}
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}


def refused(fake_server, account, pod_id, container, action, exec_id=None) -> int:
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        JdcStream(fake_server.endpoint, account, pod_id, container, action, exec_id)
    return int(e.value.status_code)


def test_exec_refusals(fake_server) -> None:
    jd = fake_server.jd()
    pod_id = running_pod(fake_server)
    exec_id = jd.call("execCreate", pod_id, "app", ["sleep", "100"])["execId"]
    assert refused(fake_server, jd.account, pod_id, "app", "execStart", "exec-unknown") == 404
    assert refused(fake_server, jd.account, pod_id, "other", "execStart", exec_id) == 404
    other = fake_server.new_account("intruder")
    assert refused(fake_server, other, pod_id, "app", "execStart", exec_id) == 404
    with pytest.raises(JdError) as e:
        fake_server.jd(other).call("execGetExitCode", pod_id, "app", exec_id)
    assert e.value.code == 404
    unsigned = (
        f"ws://{fake_server.endpoint}/v1/regions/cn-north-1/pods/{pod_id}/containers/app:execStart?execId={exec_id}"
    )
    with pytest.raises(websocket.WebSocketBadStatusException) as e:
        websocket.create_connection(unsigned, timeout=5)
    assert e.value.status_code == 401
    with pytest.raises(JdError, match="not been started"):
        jd.call("execGetExitCode", pod_id, "app", exec_id)
    s = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    with pytest.raises(JdError, match="still running"):
        jd.call("execGetExitCode", pod_id, "app", exec_id)
    assert refused(fake_server, jd.account, pod_id, "app", "execStart", exec_id) == 400  # started once already
    s.close()
    for bad in ([], [""], None):
        with pytest.raises(JdError) as e:
            jd.raw("execCreate", {"podId": pod_id, "containerName": "app", "command": bad})
        assert e.value.code == 400
    jd.call("stopPod", pod_id)
    fake_server.settle()
    with pytest.raises(JdError, match="not running") as e:
        jd.call("execCreate", pod_id, "app", ["echo"])
    assert e.value.code == 400


def test_a_client_that_leaves_ends_its_process(fake_server) -> None:
    jd = fake_server.jd()
    pod_id = running_pod(fake_server)
    exec_id = jd.call("execCreate", pod_id, "app", ["sleep", "1000"])["execId"]
    s = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", exec_id)
    s.close()
    runtime_exec = next(iter(fake_server.runtime.execs.values()))
    deadline = time.monotonic() + 5
    while runtime_exec.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not runtime_exec.running and runtime_exec.exit_code == 137
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 137}


def test_session_limits_and_idle_timeout(fake_server) -> None:
    jd = fake_server.jd()
    pod_id = running_pod(fake_server)
    limits = fake_server.app.ctx.sessions.limits
    ids = [jd.call("execCreate", pod_id, "app", ["sleep", "1"])["execId"] for _ in range(limits.per_container)]
    with pytest.raises(JdError) as e:
        jd.call("execCreate", pod_id, "app", ["sleep", "1"])
    assert e.value.code == 429 and "sessions open" in e.value.message
    # An execId not started expires, freeing its place.
    fake_server.app.ctx.sessions.clock = lambda: time.monotonic() + limits.exec_id_ttl + 1
    assert refused(fake_server, jd.account, pod_id, "app", "execStart", ids[0]) == 404
    fake_server.app.ctx.sessions.clock = time.monotonic
    fake_server.app.ctx.sessions.limits = type(limits)(idle_seconds=0.3)
    idle = jd.call("execCreate", pod_id, "app", ["sleep", "1000"])["execId"]
    got = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", idle).read_to_end(10)
    assert got.closed and "idle" in got.errors[0]


def test_resize_tty(fake_server) -> None:
    jd = fake_server.jd()
    plain = running_pod(fake_server, "plain")
    tty = running_pod(fake_server, "tty", tty=True)
    jd.call("resizeTTY", tty, "app", 40, 120)
    assert fake_server.runtime.sizes[(tty, "app")] == (40, 120)
    with pytest.raises(JdError, match="no TTY"):
        jd.call("resizeTTY", plain, "app", 40, 120)
    for h, w in ((9, 80), (2001, 80), (24, 9), (24, 1001)):
        with pytest.raises(JdError) as e:
            jd.call("resizeTTY", tty, "app", h, w)
        assert e.value.code == 400
    exec_id = jd.call("execCreate", plain, "app", ["sleep", "100"], tty=True)["execId"]
    s = JdcStream(fake_server.endpoint, jd.account, plain, "app", "execStart", exec_id)
    # The jdc CLI sends the container as "containerId" in the body.
    jd.raw(
        "resizeTTY",
        {"podId": plain, "containerName": "app", "containerId": "app", "height": 30, "width": 90, "execId": exec_id},
    )
    assert next(e for e in fake_server.runtime.execs.values() if e.tty).size == (30, 90)
    s.close()
    with pytest.raises(JdError) as e:
        jd.call("resizeTTY", plain, "app", 30, 90, execId="exec-unknown")
    assert e.value.code == 404


def test_resize_tty_of_an_exec_without_a_tty_is_a_no_op(fake_server) -> None:
    # Kubernetes ignores it; jdc resizes every exec it started when it exits, TTY or not.
    jd = fake_server.jd()
    pod_id = running_pod(fake_server, "notty")
    created = jd.call("execCreate", pod_id, "app", ["sleep", "100"])["execId"]
    assert jd.call("resizeTTY", pod_id, "app", 30, 90, execId=created) is None  # not started yet
    s = JdcStream(fake_server.endpoint, jd.account, pod_id, "app", "execStart", created)
    assert jd.call("resizeTTY", pod_id, "app", 30, 90, execId=created) is None
    assert next(iter(fake_server.runtime.execs.values())).size is None  # nothing was sized
    s.close()
    for h, w in ((9, 80), (24, 1001)):  # the sizes are still checked
        with pytest.raises(JdError) as e:
            jd.call("resizeTTY", pod_id, "app", h, w, execId=created)
        assert e.value.code == 400
    with pytest.raises(JdError) as e:
        jd.call("resizeTTY", pod_id, "app", 30, 90, execId="exec-unknown")
    assert e.value.code == 404


def test_attach_and_plain_get(fake_server) -> None:
    jd = fake_server.jd()
    tty = running_pod(fake_server, "att", tty=True)
    a = JdcStream(fake_server.endpoint, jd.account, tty, "app", "attach")
    a.send("ping")
    assert a.read_until(b"ping", 10).stdout == b"ping"
    a.close()
    assert fake_server.runtime.attached == [(tty, "app")]
    assert jd.pod(tty)["podStatus"]["phase"] == "running"  # detaching stops nothing
    with pytest.raises(JdError, match="WebSocket") as e:
        jd.call("attach", tty, "app")
    assert e.value.code == 400
