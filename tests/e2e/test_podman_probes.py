"""The Podman driver's probes for real: a pod made through the official SDK by a live
podyard, probed by a PodmanRuntime of the test's own on podyard's Podman socket.

exec runs in the container and a timed-out one leaves no process behind; tcpSocket and
httpGet run from the pod's network namespace (its loopback is not the host's) and
resolve names through the pod's hosts file and the nameservers of its resolv.conf."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import dns.message
import dns.rcode
import dns.rrset
import pytest
import uvloop
from jdcloud_sdk.services.pod.models.DnsConfigSpec import DnsConfigSpec
from jdcloud_sdk.services.pod.models.HostAliasSpec import HostAliasSpec

from drive.harness import Podyard, free_port, wait_phase
from drive.jd import container, pod_spec
from podyard.domain.probes import ProbeCheck, ProbeResult
from podyard.runtime.podman.client import LibpodClient
from podyard.runtime.podman.driver import PodmanRuntime
from podyard.runtime.podman.probes import _socket_in as socket_in
from podyard.runtime.protocol import RuntimeFailure

pytestmark = pytest.mark.e2e
T = TypeVar("T")


@dataclass
class Probed:
    podyard: Podyard
    pod_id: str
    ip: str
    local_port: int  # served on the pod's 127.0.0.1 only
    nameserver: str
    logs: Path

    def run(self, fn: Callable[[PodmanRuntime], Awaitable[T]]) -> T:
        """fn with a runtime on podyard's Podman, on uvloop as podyard serves."""

        async def go() -> T:
            client = LibpodClient(str(self.podyard.podman_service.socket))
            try:
                runtime = PodmanRuntime(client, self.logs)
                runtime.files_root = self.podyard.data_dir / "pod-files"  # the pods' hosts and resolv.conf
                return await fn(runtime)
            finally:
                await client.close()

        return uvloop.run(go())

    def probe(self, check: ProbeCheck, container: str = "app", pod_id: str | None = None) -> ProbeResult:
        return self.run(lambda rt: rt.probe(pod_id or self.pod_id, container, check, self.ip))


@pytest.fixture(scope="module")
def probed(podyard: Podyard, image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probed]:
    jd = podyard.jd()
    local_port = free_port()
    nameserver = "127.0.0.53"  # on the pod's own loopback: the test serves it there
    web = container("web", image, ["sh", "-c", "echo hi > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])
    serve_local = f"echo hi > /tmp/index.html; exec httpd -f -p 127.0.0.1:{local_port} -h /tmp"
    local = container("local", image, ["sh", "-c", serve_local])
    app = container("app", image, ["sleep", "100000"])
    spec = pod_spec(
        jd.account,
        f"probes-{uuid.uuid4().hex[:6]}",
        [web, local, app],
        dnsConfig=DnsConfigSpec(nameservers=[nameserver], searches=["probe.test"]),
        hostAliases=[HostAliasSpec(["self.alias"], "127.0.0.1")],
        restartPolicy="Never",  # a container the test stops stays stopped
        terminationGracePeriodSeconds=1,  # PID 1 ignores SIGTERM: no need to wait 30 s
    )
    [pod_id] = jd.create_pods(spec)
    pod = wait_phase(jd, pod_id, "running")
    yield Probed(podyard, pod_id, pod["privateIpAddress"], local_port, nameserver, tmp_path_factory.mktemp("logs"))
    jd.call("deletePod", pod_id)


def exec_(*command: str, timeout: float = 2) -> ProbeCheck:
    return ProbeCheck("exec", timeout, command=command)


def http(port: int, path: str = "/", host: str | None = None, timeout: float = 2) -> ProbeCheck:
    return ProbeCheck("httpGet", timeout, port=port, path=path, host=host)


def tcp(port: int, host: str | None = None) -> ProbeCheck:
    return ProbeCheck("tcpSocket", 2, port=port, host=host)


def test_exec_checks_and_a_timed_out_one_leaves_nothing(probed: Probed) -> None:
    assert probed.probe(exec_("true")) == ProbeResult(True)
    assert probed.probe(exec_("false")) == ProbeResult(False, "command exited with 1")
    said = probed.probe(exec_("sh", "-c", "echo not ready >&2; exit 3"))
    assert said == ProbeResult(False, "command exited with 3: not ready")
    flood = probed.probe(exec_("sh", "-c", "yes | head -c 3000000; exit 1", timeout=20))
    assert not flood.ok and len(flood.message) < 1100  # the first KiB is kept, the rest read and dropped
    assert probed.probe(exec_("sleep", "7", timeout=1)) == ProbeResult(False, "timed out after 1s")
    assert "sleep 7" not in probed.podyard.podman("exec", f"{probed.pod_id}-app", "ps", "-o", "args")
    gone = probed.probe(exec_("true"), container="nosuch")
    assert not gone.ok and "no such container" in gone.message


def test_tcp_and_http_from_the_pods_network_namespace(probed: Probed) -> None:
    assert probed.probe(http(8080, "/index.html")) == ProbeResult(True)
    assert probed.probe(http(8080, "/missing")) == ProbeResult(False, "HTTP probe failed with statuscode: 404")
    assert probed.probe(tcp(8080)) == ProbeResult(True)
    refused = probed.probe(tcp(8081))
    assert not refused.ok and "connection refused" in refused.message
    # Only the pod listens on its 127.0.0.1:PORT: the host's loopback has nothing there.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", probed.local_port)) != 0
    assert probed.probe(tcp(probed.local_port, "127.0.0.1")) == ProbeResult(True)
    assert probed.probe(http(probed.local_port, "/index.html", "127.0.0.1")) == ProbeResult(True)
    # A name from the pod's hosts file (a host alias to the pod's loopback).
    assert probed.probe(tcp(probed.local_port, "self.alias")) == ProbeResult(True)
    assert probed.probe(tcp(8080), pod_id="no-such-pod") == ProbeResult(False, "the pod does not exist in the runtime")


def test_names_resolve_through_the_pods_nameservers(probed: Probed) -> None:
    asked: list[str] = []
    stop = threading.Event()
    bound = threading.Event()
    pid = probed.podyard.inspect(f"{probed.pod_id}-infra")["State"]["Pid"]

    def serve() -> None:
        # The nameserver listens on the pod's own loopback, where its resolv.conf points.
        server = socket_in(f"/proc/{pid}/ns/net", socket.AF_INET, socket.SOCK_DGRAM)
        server.bind((probed.nameserver, 53))
        server.settimeout(0.1)
        bound.set()
        while not stop.is_set():
            try:
                data, peer = server.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            reply = dns.message.make_response(query)
            name = query.question[0].name.to_text()
            asked.append(name)
            if name == "web.probe.test.":
                reply.answer.append(dns.rrset.from_text(name, 5, "IN", "A", probed.ip))
            else:
                reply.set_rcode(dns.rcode.NXDOMAIN)
            server.sendto(reply.to_wire(), peer)
        server.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert bound.wait(5)
    try:
        assert probed.probe(http(8080, "/index.html", "web")) == ProbeResult(True)  # through the search domain
        assert asked == ["web.probe.test."]
        assert probed.probe(tcp(8080, "nowhere.example")) == ProbeResult(False, "cannot resolve nowhere.example")
        assert asked[1:] == ["nowhere.example.", "nowhere.example.probe.test."]
    finally:
        stop.set()
        thread.join(5)


def test_stop_container_and_probes_of_a_stopped_pod(probed: Probed) -> None:
    async def stop(rt: PodmanRuntime) -> str:
        await rt.stop_container(probed.pod_id, "app", 1)
        seen = await rt.inspect_pod(probed.pod_id)
        assert seen is not None
        return seen.containers["app"].state

    assert probed.run(stop) == "exited"
    stopped = probed.probe(exec_("true"))
    assert not stopped.ok and "running" in stopped.message
    probed.podyard.jd().call("stopPod", probed.pod_id)
    wait_phase(probed.podyard.jd(), probed.pod_id, "stopped")
    assert probed.probe(tcp(8080)) == ProbeResult(False, "the pod is not running")
    with pytest.raises(RuntimeFailure):
        probed.run(lambda rt: rt.stop_container(probed.pod_id, "nosuch", 1))
