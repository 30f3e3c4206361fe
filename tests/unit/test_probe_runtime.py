"""The runtime side of probes without Podman: how a pod's resolv.conf and hosts file are
read, the HTTP request a probe sends, a namespace thread that cannot come home, and the
fake runtime's hooks."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

import pytest

from podyard.domain.probes import USER_AGENT, ProbeCheck, ProbeResult
from podyard.runtime.fake import FakeRuntime
from podyard.runtime.podman import probes
from podyard.runtime.protocol import ContainerRun, PodRun


def test_resolv_conf_as_glibc_reads_it() -> None:
    conf = probes._Resolv.parse(
        "# podman\nnameserver 10.0.0.2\nnameserver bogus\nsearch a.svc b.svc.\noptions ndots:5 timeout:2\n"
        "nameserver 10.0.0.3 ; comment\nnameserver 10.0.0.4\nnameserver 10.0.0.5\n"
    )
    assert conf.nameservers == ["10.0.0.2", "10.0.0.3", "10.0.0.4"]  # at most three
    assert conf.candidates("db") == ["db.a.svc.", "db.b.svc.", "db."]
    assert conf.candidates("db.example.com") == ["db.example.com.a.svc.", "db.example.com.b.svc.", "db.example.com."]
    assert conf.candidates("db.example.com.") == ["db.example.com."]
    plain = probes._Resolv.parse("search corp\n")
    assert plain.nameservers == ["127.0.0.1"]
    assert plain.candidates("x.y") == ["x.y.", "x.y.corp."]


def test_hosts_file_gives_the_first_ipv4_address() -> None:
    hosts = "127.0.0.1 localhost\n::1 db # six\n10.1.2.3  Web web.local # comment\n10.9.9.9 db\n"
    assert probes._from_hosts(hosts, "web.local") == "10.1.2.3"
    assert probes._from_hosts(hosts, "WEB.") == "10.1.2.3"
    assert probes._from_hosts(hosts, "db") == "10.9.9.9"
    assert probes._from_hosts(hosts, "comment") is None


def test_http_headers_default_and_user_given() -> None:
    check = ProbeCheck("httpGet", 1, port=8080, headers=(("X-Probe", "1"), ("Connection", "keep-alive")))
    assert probes._headers(check, "10.0.0.5") == [
        ("Host", "10.0.0.5:8080"),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
        ("X-Probe", "1"),
        ("Connection", "close"),
    ]
    mine = ProbeCheck("httpGet", 1, port=80, headers=(("host", "app.example"), ("User-Agent", "me")))
    assert probes._headers(mine, "10.0.0.5") == [
        ("Accept", "*/*"),
        ("host", "app.example"),
        ("User-Agent", "me"),
        ("Connection", "close"),
    ]


def test_a_thread_that_cannot_leave_the_namespace_is_never_used_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[threading.Thread, int]] = []
    fail_home = threading.Event()
    fail_home.set()

    def fake_setns(fd: int) -> None:
        # Nothing really moves: the first call of a pair enters, the second comes home.
        calls.append((threading.current_thread(), fd))
        if len(calls) % 2 == 0 and fail_home.is_set():
            raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(probes, "_setns", fake_setns)

    async def go() -> None:
        sockets = probes.NetnsSockets()
        first_pool = sockets._pool
        with pytest.raises(probes.Stranded):
            await sockets.make("/proc/self/ns/net", socket.AF_INET, socket.SOCK_STREAM)
        await asyncio.sleep(0)
        assert sockets._pool is not first_pool  # retired
        with pytest.raises(RuntimeError):
            first_pool.submit(print)  # shut down: nothing runs on that thread again
        fail_home.clear()
        made = await sockets.make("/proc/self/ns/net", socket.AF_INET, socket.SOCK_STREAM)
        made.close()
        assert calls[0][0] is not calls[2][0]  # a new thread did it

    asyncio.run(go())


def test_fake_runtime_probes_and_stops_one_container(tmp_path: Path) -> None:
    async def go() -> None:
        rt = FakeRuntime(tmp_path)
        app = ContainerRun("app", "busybox", None, None, {}, None, False, 1 << 20, 100)
        side = ContainerRun("side", "busybox", None, None, {}, None, False, 1 << 20, 100)
        await rt.create_pod(PodRun("pod-1", 1, "h", "10.0.0.2", 1 << 20, 100, 10, 1, [app, side]))
        await rt.start_pod("pod-1", ["app", "side"])
        http = ProbeCheck("httpGet", 1, port=80)
        assert await rt.probe("pod-1", "app", http, "10.0.0.2") == ProbeResult(True)
        rt.probe_results[("pod-1", "app", "httpGet")] = ProbeResult(False, "HTTP probe failed with statuscode: 503")
        assert not (await rt.probe("pod-1", "app", http, "10.0.0.2")).ok
        assert [(p, c, check.kind) for p, c, check in rt.probes] == [("pod-1", "app", "httpGet")] * 2
        await rt.stop_container("pod-1", "app", 5)
        seen = await rt.inspect_pod("pod-1")
        assert seen is not None
        assert seen.containers["app"].state == "exited" and seen.containers["app"].exit_code == 143
        assert seen.containers["side"].state == "running"

    asyncio.run(go())
