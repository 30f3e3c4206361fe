"""The network for real: VPCs as network namespaces, security groups as nftables rules on
each pod's port, elastic IPs as 1:1 NAT from the host, checked by real traffic between
real pods (TCP and ICMP), driven through the official SDK's VpcClient and PodClient."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from jdcloud_sdk.services.pod.models.ElasticIpSpec import ElasticIpSpec as PodElasticIpSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceAttachmentSpec import NetworkInterfaceAttachmentSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceSpec import NetworkInterfaceSpec
from jdcloud_sdk.services.pod.models.PodSpec import PodSpec
from jdcloud_sdk.services.vpc.models.AddSecurityGroupRules import AddSecurityGroupRules
from jdcloud_sdk.services.vpc.models.ElasticIpSpec import ElasticIpSpec

from drive.harness import ELASTIC_IP_INNER_POOL, Podyard, wait_for, wait_phase
from drive.jd import Account, Jd, JdError, container, pod_spec

pytestmark = pytest.mark.e2e
TCP, ICMP, ALL = 6, 1, 300
INGRESS, EGRESS = 0, 1
SERVE = "echo hi > /tmp/index.html; httpd -p 8080 -h /tmp; exec sleep 100000"


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


@dataclass
class Pod:
    pod_id: str
    ip: str
    secondary_ips: tuple[str, ...] = ()


def run_pod(
    jd: Jd,
    image: str,
    subnet_id: str,
    groups: list[str],
    ip: str | None = None,
    secondary_count: int | None = None,
    **more: object,
) -> Pod:
    nic = NetworkInterfaceSpec(subnet_id, securityGroups=groups, primaryIpAddress=ip, secondaryIpCount=secondary_count)
    spec = PodSpec(
        name=name("net"),
        instanceType="g.s1.micro",
        az="cn-north-1a",
        containers=[container(image=image, command=["sh", "-c", SERVE])],
        primaryNetworkInterface=NetworkInterfaceAttachmentSpec(nic),
        terminationGracePeriodSeconds=1,
        **more,
    )
    [pod_id] = jd.create_pods(spec)
    pod = wait_phase(jd, pod_id, "running")
    secondary = pod["primaryNetworkInterface"]["networkInterface"]["secondaryIps"]
    return Pod(pod_id, pod["privateIpAddress"], tuple(ip["privateIpAddress"] for ip in secondary))


def sh(podyard: Podyard, pod: Pod, command: str) -> str:
    r = subprocess.run(
        ["podman", *podyard.podman_service.global_args(), "exec", f"{pod.pod_id}-app", "sh", "-c", command],
        env=podyard.podman_service.env,
        capture_output=True,
        text=True,
        check=False,
    )
    return r.stdout + r.stderr


def tcp_ok(podyard: Podyard, src: Pod, ip: str, port: int = 8080) -> bool:
    out = sh(podyard, src, f"printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {ip} {port}")
    return out.endswith("hi\n")


def ping_ok(podyard: Podyard, src: Pod, ip: str, source: str | None = None) -> bool:
    by = f"-I {source} " if source else ""
    return " 0% packet loss" in sh(podyard, src, f"ping -c 1 -W 1 {by}{ip}")


def rule(direction: int, protocol: int, prefix: str, ports: tuple[int, int] | None = None) -> AddSecurityGroupRules:
    lo, hi = ports or (None, None)
    return AddSecurityGroupRules(protocol, direction, prefix, fromPort=lo, toPort=hi)


@dataclass
class World:
    podyard: Podyard
    a: Account
    b: Account
    vpc_a: str
    web: str  # a security group of A's VPC: TCP 8080 and ICMP from the VPC
    x: Pod  # A, subnet 1
    y: Pod  # A, subnet 2, with two secondary IPs
    z: Pod  # B, a VPC with A's CIDR, and x's very address
    a0: Pod  # A's default subnet
    b0: Pod  # B's default subnet


@pytest.fixture(scope="module")
def world(podyard: Podyard, image: str) -> Iterator[World]:
    a, b = podyard.admin, podyard.new_account(name("tenant"))
    va, vb = podyard.vpc(a), podyard.vpc(b)
    vpc_a = va.call("createVpc", name("va"), addressPrefix="10.60.0.0/16")["vpcId"]
    s1 = va.call("createSubnet", vpc_a, "s1", "10.60.1.0/24")["subnetId"]
    s2 = va.call("createSubnet", vpc_a, "s2", "10.60.2.0/24")["subnetId"]
    web = va.call("createNetworkSecurityGroup", vpc_a, "web")["networkSecurityGroupId"]
    va.call(
        "addNetworkSecurityGroupRules",
        web,
        [rule(INGRESS, TCP, "10.60.0.0/16", (8080, 8080)), rule(INGRESS, ICMP, "10.60.0.0/16")],
    )
    # Another tenant, the same CIDR: every VPC is a network of its own.
    vpc_b = vb.call("createVpc", name("vb"), addressPrefix="10.60.0.0/16")["vpcId"]
    sb = vb.call("createSubnet", vpc_b, "s1", "10.60.1.0/24")["subnetId"]
    open_b = vb.call("createNetworkSecurityGroup", vpc_b, "open")["networkSecurityGroupId"]
    vb.call("addNetworkSecurityGroupRules", open_b, [rule(INGRESS, ALL, "0.0.0.0/0")])
    ja, jb = podyard.jd(a), podyard.jd(b)
    x = run_pod(ja, image, s1, [web])
    y = run_pod(ja, image, s2, [web], secondary_count=2)
    z = run_pod(jb, image, sb, [open_b], ip=x.ip)
    a0 = Pod(*_default_pod(ja, image))
    b0 = Pod(*_default_pod(jb, image))
    yield World(podyard, a, b, vpc_a, web, x, y, z, a0, b0)
    for jd, pod in ((ja, x), (ja, y), (jb, z), (ja, a0), (jb, b0)):
        jd.call("deletePod", pod.pod_id)


def _default_pod(jd: Jd, image: str) -> tuple[str, str]:
    [pod_id] = jd.create_pods(pod_spec(jd.account, name("dflt"), [container(image=image, command=["sh", "-c", SERVE])]))
    return pod_id, wait_phase(jd, pod_id, "running")["privateIpAddress"]


def test_pods_of_one_vpc_reach_each_other_across_subnets(world: World) -> None:
    p = world.podyard
    assert wait_for(lambda: tcp_ok(p, world.x, world.y.ip), 10)
    assert ping_ok(p, world.y, world.x.ip)
    # y's secondary IPs are addresses of its interface: reached, and sent from.
    assert len(world.y.secondary_ips) == 2
    for ip in world.y.secondary_ips:
        assert tcp_ok(p, world.x, ip) and ping_ok(p, world.x, ip)
    assert ping_ok(p, world.y, world.x.ip, source=world.y.secondary_ips[1])
    assert wait_for(lambda: tcp_ok(p, world.z, world.z.ip), 10)  # B's pod, x's address, its own VPC


def test_vpcs_and_tenants_never_reach_each_other(world: World) -> None:
    p = world.podyard
    # Same CIDR, same address: z reaches nothing of A's, and A's pods nothing of B's.
    assert not tcp_ok(p, world.z, world.y.ip) and not ping_ok(p, world.z, world.y.ip)
    assert not tcp_ok(p, world.y, world.b0.ip) and not ping_ok(p, world.y, world.b0.ip)
    # Default VPCs of two accounts, and two VPCs of one account.
    assert wait_for(lambda: ping_ok(p, world.a0, world.a0.ip), 10)
    assert not tcp_ok(p, world.a0, world.b0.ip) and not ping_ok(p, world.a0, world.b0.ip)
    assert not tcp_ok(p, world.b0, world.a0.ip) and not ping_ok(p, world.b0, world.a0.ip)
    assert not tcp_ok(p, world.a0, world.x.ip) and not ping_ok(p, world.a0, world.x.ip)


def test_a_pod_reaches_neither_podyard_nor_the_host(world: World) -> None:
    p = world.podyard
    api_port = int(p.endpoint.rsplit(":", 1)[1])
    uplink = str(ipaddress.ip_network(ELASTIC_IP_INNER_POOL).network_address + 1)
    gateway = str(ipaddress.ip_network("10.60.1.0/24").network_address + 1)
    assert ping_ok(p, world.x, gateway)  # the gateway answers pings, nothing else
    for target in (gateway, uplink, "127.0.0.1"):
        out = sh(p, world.x, f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {target} {api_port}")
        assert "HTTP/1.1" not in out, (target, out)


def test_a_security_group_rule_flips_a_connection(world: World) -> None:
    p, va = world.podyard, world.podyard.vpc(world.a)
    assert wait_for(lambda: tcp_ok(p, world.x, world.y.ip), 10)
    group = va.call("describeNetworkSecurityGroup", world.web)["networkSecurityGroup"]
    [tcp_rule] = [r["ruleId"] for r in group["securityGroupRules"] if r["protocol"] == TCP]
    va.call("removeNetworkSecurityGroupRules", world.web, [tcp_rule])
    assert wait_for(lambda: not tcp_ok(p, world.x, world.y.ip), 10, "the connection refused")
    assert ping_ok(p, world.x, world.y.ip)  # the ICMP rule still lets pings in
    va.call("addNetworkSecurityGroupRules", world.web, [rule(INGRESS, TCP, "10.60.2.0/24", (8080, 8080))])
    assert not tcp_ok(p, world.x, world.y.ip)  # from subnet 1: still not allowed
    assert wait_for(lambda: tcp_ok(p, world.y, world.y.ip), 10)  # its own address: local, never filtered
    va.call("addNetworkSecurityGroupRules", world.web, [rule(INGRESS, TCP, "10.60.1.0/24", (8000, 8100))])
    assert wait_for(lambda: tcp_ok(p, world.x, world.y.ip), 10, "the connection allowed again")


def _fetch(address: str, port: int = 8080, timeout: float = 3) -> bytes:
    with socket.create_connection((address, port), timeout=timeout) as s:
        s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def _rate_mbps(address: str, port: int, seconds: float) -> float:
    with socket.create_connection((address, port), timeout=5) as s:
        got, start = 0, time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += len(chunk)
    return got * 8 / elapsed / 1e6


def test_an_elastic_ip_reaches_the_pod_from_the_host_at_its_bandwidth(world: World) -> None:
    p, va, ja = world.podyard, world.podyard.vpc(world.a), world.podyard.jd(world.a)
    va.call("addNetworkSecurityGroupRules", world.web, [rule(INGRESS, TCP, "0.0.0.0/0", (8080, 8081))])
    [eip_id] = va.call("createElasticIps", 1, ElasticIpSpec(10, "bgp"))["elasticIpIds"]
    eip = va.call("describeElasticIp", eip_id)["elasticIp"]["elasticIpAddress"]
    ja.call("associateElasticIp", world.x.pod_id, eip_id)
    with pytest.raises(JdError) as e:
        ja.call("associateElasticIp", world.y.pod_id, eip_id)  # an address is on one pod at a time
    assert 400 <= e.value.code < 500
    shown = ja.pod(world.x.pod_id)["primaryNetworkInterface"]["networkInterface"]["primaryIp"]
    assert shown["elasticIpAddress"] == eip and shown["elasticIpId"] == eip_id
    assert wait_for(lambda: _reachable(eip), 10, "the pod served at its elastic IP")
    # 10 Mbps, measured from the host, within 20%.
    sh(p, world.x, "(while true; do dd if=/dev/zero bs=65536 count=200 2>/dev/null | nc -l -p 8081; done) &")
    rate = wait_for(lambda: _rate_mbps(eip, 8081, 3.0), 10)
    assert 8.0 <= rate <= 12.0, rate
    print(f"elastic IP at 10 Mbps measured {rate:.2f} Mbps")
    ja.call("disassociateElasticIp", world.x.pod_id, eip_id)
    assert wait_for(lambda: not _reachable(eip), 10, "the elastic IP released")
    va.call("deleteElasticIp", eip_id)


def _reachable(address: str) -> bool:
    try:
        return _fetch(address, timeout=1).endswith(b"hi\n")
    except OSError:
        return False


def test_create_pods_with_an_elastic_ip_and_delete_releasing_it(world: World, image: str) -> None:
    ja, va = world.podyard.jd(world.a), world.podyard.vpc(world.a)
    subnet = va.call("describeSubnets", filters=None)["subnets"]
    s1 = next(s["subnetId"] for s in subnet if s["addressPrefix"] == "10.60.1.0/24" and s["vpcId"] == world.vpc_a)
    pod = run_pod(ja, image, s1, [world.web], elasticIp=PodElasticIpSpec(bandwidthMbps=5, provider="bgp"))
    eip = ja.pod(pod.pod_id)["primaryNetworkInterface"]["networkInterface"]["primaryIp"]["elasticIpAddress"]
    assert eip and ipaddress.ip_address(eip).is_loopback
    assert wait_for(lambda: _reachable(eip), 10)
    ja.call("deletePod", pod.pod_id, deletePrimaryNetworkInterfaceAllElasticIp=True)
    assert wait_for(lambda: not _reachable(eip), 30)
    assert not [e for e in va.call("describeElasticIps")["elasticIps"] if e["elasticIpAddress"] == eip]


def _podyard_state() -> dict[str, list[str]]:
    netns = json.loads(subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True).stdout or "[]")
    tables = json.loads(subprocess.run(["nft", "-j", "list", "tables"], capture_output=True, text=True).stdout)
    return {
        "netns": sorted(n["name"] for n in netns if n["name"].startswith("podyard-")),
        "tables": sorted(t["table"]["name"] for t in tables["nftables"] if "table" in t),
    }


def test_a_deleted_vpc_leaves_nothing_behind_and_a_restart_makes_nothing_twice(podyard: Podyard, image: str) -> None:
    va, ja = podyard.vpc(), podyard.jd()
    vpc = va.call("createVpc", name("gone"), addressPrefix="10.61.0.0/16")["vpcId"]
    subnet = va.call("createSubnet", vpc, "s", "10.61.1.0/24")["subnetId"]
    group = va.call("createNetworkSecurityGroup", vpc, "g")["networkSecurityGroupId"]
    pod = run_pod(ja, image, subnet, [group])
    assert any(n.endswith(vpc) for n in _podyard_state()["netns"])
    before = _podyard_state()
    podyard.stop()
    podyard.start()
    assert wait_phase(ja, pod.pod_id, "running")
    assert _podyard_state() == before  # nothing made twice
    assert wait_for(lambda: ping_ok(podyard, pod, "10.61.1.1"), 10)  # still plugged in
    with pytest.raises(JdError) as e:
        va.call("deleteSubnet", subnet)  # in use
    assert 400 <= e.value.code < 500 and pod.pod_id in e.value.message
    ja.call("deletePod", pod.pod_id)
    wait_for(lambda: not [x for x in ja.pods()["pods"] if x["podId"] == pod.pod_id], 60, "the pod gone")
    va.call("deleteNetworkSecurityGroup", group)
    va.call("deleteSubnet", subnet)
    va.call("deleteVpc", vpc)
    assert wait_for(lambda: not any(n.endswith(vpc) for n in _podyard_state()["netns"]), 10)


def test_after_a_host_reboot_pods_come_back_on_their_network(podyard: Podyard, image: str) -> None:
    """A reboot, simulated: podyard stopped, the pods killed, and everything podyard made
    on the host network gone. Started again, podyard brings the pods back with their
    interfaces, addresses, rules and elastic IP."""
    va, ja = podyard.vpc(), podyard.jd()
    vpc = va.call("createVpc", name("boot"), addressPrefix="10.62.0.0/16")["vpcId"]
    subnet = va.call("createSubnet", vpc, "s", "10.62.1.0/24")["subnetId"]
    group = va.call("createNetworkSecurityGroup", vpc, "g")["networkSecurityGroupId"]
    va.call(
        "addNetworkSecurityGroupRules",
        group,
        [rule(INGRESS, TCP, "0.0.0.0/0", (8080, 8080)), rule(INGRESS, ICMP, "10.62.0.0/16")],
    )
    a = run_pod(ja, image, subnet, [group], secondary_count=1)
    b = run_pod(ja, image, subnet, [group], elasticIp=PodElasticIpSpec(bandwidthMbps=20, provider="bgp"))
    eip = ja.pod(b.pod_id)["elasticIp"]["elasticIpAddress"]
    assert wait_for(lambda: _reachable(eip), 10)

    podyard.stop()
    podyard.podman("pod", "kill", a.pod_id, b.pod_id)
    podyard.podyard_cli("teardown-network")
    assert not any(n.endswith(vpc) for n in _podyard_state()["netns"])
    assert not _reachable(eip)
    podyard.start()

    for pod in (a, b):
        wait_phase(ja, pod.pod_id, "running")
    assert wait_for(lambda: tcp_ok(podyard, a, b.ip), 30, "a reaching b again")
    assert tcp_ok(podyard, b, a.secondary_ips[0]) and ping_ok(podyard, b, a.ip)
    assert wait_for(lambda: _reachable(eip), 30, "the elastic IP serving again")
    for pod in (a, b):
        ja.call("deletePod", pod.pod_id, deletePrimaryNetworkInterfaceAllElasticIp=True)
    wait_for(lambda: not [x for x in ja.pods()["pods"] if x["podId"] in (a.pod_id, b.pod_id)], 60, "the pods gone")
    va.call("deleteNetworkSecurityGroup", group)
    va.call("deleteSubnet", subnet)
    va.call("deleteVpc", vpc)
