"""A crash at any step loses nothing: podyard is killed (SIGKILL, PODYARD_FAULT) at each
named step of createPods, stopPod, startPod, rebuildPod and deletePod and of the
network's, started again, and every pod comes to what its user asked, with no orphan
container, address, interface or rule, and no duplicate pod."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from jdcloud_sdk.services.pod.models.ElasticIpSpec import ElasticIpSpec as PodElasticIpSpec
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec
from jdcloud_sdk.services.pod.models.VolumeMountSpec import VolumeMountSpec

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import Jd, JdError, container, pod_spec
from podyard.faults import STEPS
from podyard.network.names import Names
from tests.e2e.test_disks_e2e import disk_client, disk_leftovers, new_volume, sh, volume_id
from tests.e2e.test_network_e2e import INGRESS, TCP, rule

pytestmark = pytest.mark.e2e


@dataclass
class Net:
    vpc_id: str
    subnet_id: str
    group_id: str


@pytest.fixture(scope="module")
def net(podyard: Podyard) -> Iterator[Net]:
    va = podyard.vpc()
    vpc = va.call("createVpc", f"crash-{uuid.uuid4().hex[:6]}", addressPrefix="10.63.0.0/16")["vpcId"]
    subnet = va.call("createSubnet", vpc, "s", "10.63.1.0/24")["subnetId"]
    group = va.call("createNetworkSecurityGroup", vpc, "g")["networkSecurityGroupId"]
    va.call("addNetworkSecurityGroupRules", group, [rule(INGRESS, TCP, "0.0.0.0/0", (8080, 8080))])
    yield Net(vpc, subnet, group)


def _spec(jd: Jd, image: str, net: Net, **more: Any) -> Any:
    spec = pod_spec(
        jd.account,
        f"crash-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=["sh", "-c", "exec sleep 100000"])],
        terminationGracePeriodSeconds=0,
        **more,
    )
    spec.primaryNetworkInterface.networkInterface.subnetId = net.subnet_id
    spec.primaryNetworkInterface.networkInterface.securityGroups = [net.group_id]
    return spec


def _crash_at(podyard: Podyard, step: str) -> bool:
    """podyard restarted to die at ``step``; False if it died there while starting (a
    step its re-adoption of earlier pods reaches too): then it runs again without it."""
    podyard.stop()
    podyard.env["PODYARD_FAULT"] = step
    try:
        podyard.start()
    except RuntimeError:
        assert podyard.proc is not None and podyard.proc.returncode == -9, podyard.proc
        _died(podyard)
        return False
    return True


def _died(podyard: Podyard) -> None:
    assert podyard.proc is not None
    podyard.proc.wait(120)
    assert podyard.proc.returncode == -9, podyard.proc.returncode  # SIGKILL, at the step
    del podyard.env["PODYARD_FAULT"]
    podyard.start()


def _call_dying(fn: Callable[[], Any]) -> None:
    """The call whose handling kills podyard: its answer may never come (a refusal
    still fails the test)."""
    try:
        fn()
    except JdError:
        raise
    except Exception:  # the connection, dropped by the crash, in whatever form the SDK gives
        pass


def leftovers(podyard: Podyard) -> list[str]:
    """What podyard made that no stored pod (or no stored pod that should run) owns."""
    db = sqlite3.connect(podyard.data_dir / "podyard.db")
    try:
        pods = {r[0]: (r[1], r[2]) for r in db.execute("SELECT pod_id, vpc_id, desired FROM pods")}
        allocated = [r[0] for r in db.execute("SELECT pod_id FROM ip_allocations")]
        eips = {r[0] for r in db.execute("SELECT address FROM elastic_ips WHERE pod_id IS NOT NULL")}
    finally:
        db.close()
    found = [f"address of pod {p}, which is gone" for p in allocated if p not in pods]
    in_podman = podyard.podman("pod", "ps", "--format", "{{.Name}}").split()
    found += [f"podman pod {p} of no stored pod" for p in in_podman if p not in pods]
    names = Names.for_instance(str(podyard.data_dir.resolve()))
    ports = {names.port(p): (p, vpc, desired) for p, (vpc, desired) in pods.items()}
    for ns in _netns(names):
        vpc_id = names.vpc_of_ns(ns)
        links = json.loads(_run("ip", "-n", ns, "-j", "link", "show") or "[]")
        for link in links:
            name = link["ifname"]
            if name.startswith("p") and (name not in ports or ports[name][1] != vpc_id):
                found.append(f"interface {name} in {ns} of no pod of that VPC")
        ruleset = _run("ip", "netns", "exec", ns, "nft", "list", "ruleset")
        for line in ruleset.splitlines():
            line = line.strip()
            if line.startswith("chain ingress_") or line.startswith("chain egress_"):
                port = line.split()[1].split("_", 1)[1]
                if port not in ports or ports[port][2] == "deleted":
                    found.append(f"rule chain {line.split()[1]} in {ns} of no pod")
    host_links = json.loads(_run("ip", "-j", "link", "show") or "[]")
    uplinks = {names.uplink(v) for ns in _netns(names) if (v := names.vpc_of_ns(ns))}
    ours = [x["ifname"] for x in host_links if x["ifname"].startswith(f"pd{names.tag}")]
    found += [f"host interface {name} of no VPC" for name in ours if name not in uplinks]
    routes = json.loads(_run("ip", "-j", "-4", "route", "show") or "[]")
    for r in routes:
        if r.get("dev", "").startswith(names.uplink_prefix) and "/" not in r["dst"] and not _eip_route(r["dst"], eips):
            found.append(f"route to {r['dst']} of no associated elastic IP")
    return found


def _eip_route(dst: str, eips: set[str]) -> bool:
    from drive.harness import ELASTIC_IP_INNER_POOL, ELASTIC_IP_POOL
    from podyard.domain.netplan import inner_address

    return dst in {inner_address(a, ELASTIC_IP_POOL, ELASTIC_IP_INNER_POOL) for a in eips}


def _netns(names: Names) -> list[str]:
    spaces = json.loads(_run("ip", "-j", "netns", "list") or "[]")
    return [n["name"] for n in spaces if names.vpc_of_ns(n["name"])]


def _run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout


# Each step, and what drives podyard to it: (does what is needed before the crash is
# armed, returns the pod; then the call that crashes; then what the pod must become).
CREATE_STEPS = [
    "createPods.committed",
    "create.made",
    "create.recorded",
    "start.plugged",
    "start.started",
    "network.port_made",
    "network.rules_loaded",
]
ON_A_RUNNING_POD = {
    "stopPod.committed": ("stopPod", "stopped"),
    "stop.stopped": ("stopPod", "stopped"),
    "deletePod.committed": ("deletePod", None),
    "delete.removed": ("deletePod", None),
    "delete.unplugged": ("deletePod", None),
}
ON_A_STOPPED_POD = {
    "startPod.committed": ("startPod", "running"),
    "rebuildPod.committed": ("rebuildPod", "stopped"),
    "create.old_removed": ("rebuildPod", "stopped"),
}


# A pod with a new disk is created; podyard dies while making or mounting the disk.
DISK_STEPS = ["disks.made", "disks.looped", "disks.mounted"]


def test_every_step_is_walked() -> None:
    walked = set(CREATE_STEPS) | set(ON_A_RUNNING_POD) | set(ON_A_STOPPED_POD) | set(DISK_STEPS)
    assert walked == set(STEPS)


@pytest.mark.parametrize("step", DISK_STEPS)
def test_a_crash_while_making_a_pods_disk(podyard: Podyard, image: str, net: Net, step: str) -> None:
    jd = podyard.jd()
    dk = disk_client(podyard, jd)
    spec = _spec(jd, image, net, volumes=[new_volume()])
    spec.containers[0].volumeMounts = [VolumeMountSpec("data", "/data")]
    token = uuid.uuid4().hex
    if _crash_at(podyard, step):
        _call_dying(lambda: jd.create_pods(spec, 1, token))
        _died(podyard)
    [pod_id] = jd.create_pods(spec, 1, token)
    wait_phase(jd, pod_id, "running")
    disk_id = volume_id(jd, pod_id)
    assert dk.disk(disk_id)["status"] == "in-use"
    sh(podyard, pod_id, "echo ok > /data/f")
    assert sh(podyard, pod_id, "grep -c ' /data ' /proc/mounts").strip() == "1"
    assert not disk_leftovers(podyard, dk), disk_leftovers(podyard, dk)  # one loop device, one mount
    assert wait_for(lambda: not leftovers(podyard), 60, "nothing left over"), leftovers(podyard)
    jd.call("deletePod", pod_id)
    wait_for(lambda: disk_id not in {d["diskId"] for d in dk.disks(pageSize=100)["disks"]}, 60, "its disk gone")
    assert wait_for(lambda: not disk_leftovers(podyard, dk), 60, "nothing left"), disk_leftovers(podyard, dk)


@pytest.mark.parametrize("step", CREATE_STEPS)
def test_a_crash_while_creating(podyard: Podyard, image: str, net: Net, step: str) -> None:
    jd = podyard.jd()
    spec = _spec(jd, image, net, elasticIp=PodElasticIpSpec(bandwidthMbps=10, provider="bgp"))
    token = uuid.uuid4().hex
    if _crash_at(podyard, step):
        _call_dying(lambda: jd.create_pods(spec, 1, token))
        _died(podyard)
    [pod_id] = jd.create_pods(spec, 1, token)  # the retry of a lost answer: the same pod
    pod = wait_phase(jd, pod_id, "running")
    assert [p["podId"] for p in jd.pods(pageSize=100)["pods"] if p["name"] == spec.name] == [pod_id]
    assert pod["elasticIp"] and pod["elasticIp"]["elasticIpAddress"]
    assert wait_for(lambda: not leftovers(podyard), 60, "nothing left over"), leftovers(podyard)
    jd.call("deletePod", pod_id, deletePrimaryNetworkInterfaceAllElasticIp=True)
    wait_for(lambda: not [p for p in jd.pods(pageSize=100)["pods"] if p["podId"] == pod_id], 60, "the pod gone")
    assert wait_for(lambda: not leftovers(podyard), 60, "nothing left after the delete"), leftovers(podyard)


@pytest.mark.parametrize("step", [*ON_A_RUNNING_POD, *ON_A_STOPPED_POD])
def test_a_crash_while_changing_a_pod(podyard: Podyard, image: str, net: Net, step: str) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(_spec(jd, image, net))
    wait_phase(jd, pod_id, "running")
    action, becomes = ON_A_RUNNING_POD.get(step) or ON_A_STOPPED_POD[step]
    if step in ON_A_STOPPED_POD:
        jd.call("stopPod", pod_id)
        wait_phase(jd, pod_id, "stopped")
    armed = _crash_at(podyard, step)
    containers = [RebuildContainerSpec("app", image, command=["sh", "-c", "echo rebuilt; exec sleep 100000"])]
    ask = (lambda: jd.call(action, pod_id, containers)) if action == "rebuildPod" else (lambda: jd.call(action, pod_id))
    _call_dying(ask)
    if armed:
        _died(podyard)
        # Asked again, as a client whose answer was lost would: refused (4xx) if the
        # first one was committed before the crash, carried out if it was not.
        with contextlib.suppress(JdError):
            ask()
    if becomes is None:
        wait_for(lambda: not [p for p in jd.pods(pageSize=100)["pods"] if p["podId"] == pod_id], 60, "the pod gone")
    else:
        pod = wait_phase(jd, pod_id, becomes)
        if action == "rebuildPod":
            assert pod["containers"][0]["command"] == ["sh", "-c", "echo rebuilt; exec sleep 100000"]
    assert wait_for(lambda: not leftovers(podyard), 60, "nothing left over"), leftovers(podyard)
    if becomes is not None:
        jd.call("deletePod", pod_id)
        wait_for(lambda: not [p for p in jd.pods(pageSize=100)["pods"] if p["podId"] == pod_id], 60, "the pod gone")
