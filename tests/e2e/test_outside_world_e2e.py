"""Elastic IPs seen from "the outside world": a network namespace joined to the host by a
veth pair, as a client elsewhere and as the far end of a pod's outbound traffic. A second
podyard instance serves a routable elastic IP pool that the world routes to the host
(nothing leaves the machine). Also: the default loopback pool forwards nothing, and two
instances on one host never touch each other's network."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from jdcloud_sdk.services.pod.models.ElasticIpSpec import ElasticIpSpec as PodElasticIpSpec

from drive.harness import ELASTIC_IP_INNER_POOL, ELASTIC_IP_POOL, Podyard, Registry, wait_for, wait_phase
from drive.jd import container, pod_spec
from podyard.domain.netplan import inner_address
from podyard.network.names import Names
from tests.e2e.test_network_e2e import INGRESS, SERVE, TCP, Pod, _podyard_state, name, rule, sh

pytestmark = pytest.mark.e2e
HOST_SIDE, WORLD_SIDE = "10.232.0.1", "10.232.0.2"
POOL = "10.232.1.0/28"  # the world routes it (everything) to the host, as an upstream router would


@dataclass
class World:
    netns: str

    def python(self, code: str, timeout: float = 20) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.netns, sys.executable, "-c", textwrap.dedent(code)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def fetch(self, address: str, port: int = 8080) -> str:
        code = f"""
            import socket
            try:
                with socket.create_connection(({address!r}, {port}), timeout=2) as s:
                    s.sendall(b"GET /index.html HTTP/1.0\\r\\n\\r\\n")
                    print(s.makefile("rb").read().decode(errors="replace")[-3:], end="")
            except OSError as e:
                print("error", e)
        """
        proc = self.python(code)
        out, _ = proc.communicate(timeout=20)
        return out

    def listen(self, port: int) -> subprocess.Popen[str]:
        """Accept one connection; print its source address, then what it sent."""
        code = f"""
            import socket
            s = socket.create_server(("0.0.0.0", {port}))
            s.settimeout(15)
            print("listening", flush=True)
            try:
                c, (peer, _) = s.accept()
                c.settimeout(5)
                print(peer, c.recv(100).decode().strip(), flush=True)
            except OSError as e:
                print("error", e, flush=True)
        """
        proc = self.python(code)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "listening"
        return proc


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    tag = uuid.uuid4().hex[:4]
    netns, host_end = f"pdtest-world-{tag}", f"pdtw{tag}"
    _ip("netns", "add", netns)
    try:
        _ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", netns)
        _ip("addr", "add", f"{HOST_SIDE}/24", "dev", host_end)
        _ip("link", "set", host_end, "up")
        _ip("-n", netns, "link", "set", "lo", "up")
        _ip("-n", netns, "addr", "add", f"{WORLD_SIDE}/24", "dev", "eth0")
        _ip("-n", netns, "link", "set", "eth0", "up")
        _ip("-n", netns, "route", "add", "default", "via", HOST_SIDE)  # routes back to anything
        yield World(netns)
    finally:
        subprocess.run(["ip", "link", "del", host_end], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", netns], check=False, capture_output=True)


@pytest.fixture(scope="module")
def routed(
    podyard: Podyard, registry: Registry, image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Podyard]:
    """A second podyard on this host: its own pools, and a routable elastic IP pool."""
    data = Path(tmp_path_factory.mktemp("routed")) / "data"
    server = Podyard(
        data,
        [registry],
        network_pool="10.235.0.0/16",
        elastic_ip_pool=POOL,
        elastic_ip_inner_pool="10.236.0.0/16",
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()  # `podyard down`: nothing of it is left on the machine
        tag = _tag(server)
        left = _podyard_state()
        assert not [n for n in left["netns"] if n.startswith(f"podyard-{tag}-")], left
        assert not [t for t in left["tables"] if t.startswith(f"podyard_{tag}")], left
        assert not server.podman_service.run_dir.exists()
        mounts = Path("/proc/mounts").read_text()
        assert str(server.data_dir) not in mounts


def _tag(server: Podyard) -> str:
    return Names.for_instance(str(server.data_dir.resolve())).tag


def _eip_pod(server: Podyard, image: str, bandwidth: int = 50) -> tuple[str, str, str]:
    """A serving pod with an elastic IP made at createPods: (pod id, private IP, elastic IP)."""
    jd = server.jd()
    spec = pod_spec(
        jd.account,
        name("out"),
        [container(image=image, command=["sh", "-c", SERVE])],
        elasticIp=PodElasticIpSpec(bandwidthMbps=bandwidth, provider="bgp"),
        terminationGracePeriodSeconds=1,
    )
    [pod_id] = jd.create_pods(spec)
    pod = wait_phase(jd, pod_id, "running")
    eip = pod["primaryNetworkInterface"]["networkInterface"]["primaryIp"]["elasticIpAddress"]
    return pod_id, pod["privateIpAddress"], eip


def test_a_client_elsewhere_reaches_the_pod_and_the_pod_leaves_from_its_elastic_ip(
    routed: Podyard, world: World, image: str
) -> None:
    vpc = routed.vpc()
    group = routed.admin.security_group_id
    # The default group lets in only its VPC: open 8080 to the world's range.
    vpc.call("addNetworkSecurityGroupRules", group, [rule(INGRESS, TCP, "10.232.0.0/24", (8080, 8080))])
    pod_id, private_ip, eip = _eip_pod(routed, image)
    assert ipaddress.ip_address(eip) in ipaddress.ip_network(POOL)
    # Inbound: the world reaches the pod at its elastic IP (its real source passes the group).
    assert wait_for(lambda: world.fetch(eip) == "hi\n", 15, "the world reaching the elastic IP")
    assert "error" in world.fetch(private_ip)  # the private address is not routed
    # Outbound: the world sees the pod's connection come from the elastic IP.
    listener = world.listen(9000)
    sh(routed, Pod(pod_id, private_ip), f"echo from-pod | nc -w 3 {WORLD_SIDE} 9000")
    out, _ = listener.communicate(timeout=20)
    assert out.split() == [eip, "from-pod"], out
    # A pod without an elastic IP has no way out, routable pool or not.
    jd = routed.jd()
    [plain] = jd.create_pods(pod_spec(jd.account, name("plain"), [container(image=image, command=["sh", "-c", SERVE])]))
    wait_phase(jd, plain, "running")
    listener = world.listen(9001)
    said = sh(routed, Pod(plain, ""), f"echo from-plain | nc -w 2 {WORLD_SIDE} 9001; echo rc=$?")
    out, _ = listener.communicate(timeout=20)
    assert "from-plain" not in out and out.startswith("error"), (out, said)
    for p in (pod_id, plain):
        jd.call("deletePod", p, deletePrimaryNetworkInterfaceAllElasticIp=True)


def test_a_loopback_pool_forwards_nothing_off_the_host(podyard: Podyard, world: World, image: str) -> None:
    """The default pool is the host's alone: a pod with a loopback elastic IP does not
    reach the world (which the host itself reaches), and the world does not reach it."""
    pod_id, private_ip, eip = _eip_pod(podyard, image)
    assert ipaddress.ip_address(eip).is_loopback
    inner = inner_address(eip, ELASTIC_IP_POOL, ELASTIC_IP_INNER_POOL)
    listener = world.listen(9002)
    said = sh(podyard, Pod(pod_id, private_ip), f"echo leak | nc -w 2 {WORLD_SIDE} 9002; echo rc=$?")
    out, _ = listener.communicate(timeout=20)
    assert "leak" not in out, (out, said)
    # The host routes the inner address into the VPC, and the world routes it to the
    # host; still nothing gets through (nothing is forwarded to an uplink).
    assert "error" in world.fetch(inner)
    podyard.jd().call("deletePod", pod_id, deletePrimaryNetworkInterfaceAllElasticIp=True)


def test_two_instances_never_touch_each_others_network(podyard: Podyard, routed: Podyard) -> None:
    mine = f"podyard-{_tag(podyard)}-"
    theirs = f"podyard-{_tag(routed)}-"
    assert mine != theirs
    before = _podyard_state()
    assert any(n.startswith(theirs) for n in before["netns"]) and any(n.startswith(mine) for n in before["netns"])
    routed.podyard_cli("teardown-network")
    after = _podyard_state()
    assert not any(n.startswith(theirs) for n in after["netns"])
    assert [n for n in after["netns"] if n.startswith(mine)] == [n for n in before["netns"] if n.startswith(mine)]
    assert f"podyard_{_tag(podyard)}" in after["tables"] and f"podyard_{_tag(routed)}" not in after["tables"]
