"""Malformed requests through the official SDK: each one a 4xx JD error naming what is
wrong, none a 5xx, and none leaving anything behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from drive.jd import Jd, JdError, container, pod_spec, spec_dict


def body(jd: Jd, **changes: Any) -> dict[str, Any]:
    spec = spec_dict(pod_spec(jd.account, "bad", [container(command=["sleep", "1"])]))
    out: dict[str, Any] = {"podSpec": spec, "maxCount": 1, "clientToken": None}
    for path, value in changes.items():
        node: Any = out
        keys = path.split("__")
        for k in keys[:-1]:
            node = node[int(k)] if k.isdigit() else node[k]
        last = keys[-1]
        node[int(last) if last.isdigit() else last] = value
    return out


C = "podSpec__containers__0__"
NIC = "podSpec__primaryNetworkInterface__networkInterface__"

# (case, request maker, expected HTTP code, text the message must contain)
CASES: list[tuple[str, Callable[[Jd], tuple[str, dict[str, Any]]], int, str]] = [
    ("maxCount zero", lambda jd: ("createPods", body(jd, maxCount=0)), 400, "maxCount"),
    ("maxCount string", lambda jd: ("createPods", body(jd, maxCount="2")), 400, "maxCount"),
    (
        "maxCount missing",
        lambda jd: ("createPods", {k: v for k, v in body(jd).items() if k != "maxCount"}),
        400,
        "maxCount",
    ),
    ("podSpec not an object", lambda jd: ("createPods", body(jd, podSpec="web")), 400, "podSpec"),
    ("name uppercase", lambda jd: ("createPods", body(jd, podSpec__name="Web")), 400, "podSpec.name"),
    ("hostname bad", lambda jd: ("createPods", body(jd, podSpec__hostname="bad_host")), 400, "hostname"),
    ("restartPolicy", lambda jd: ("createPods", body(jd, podSpec__restartPolicy="always")), 400, "restartPolicy"),
    (
        "grace 301",
        lambda jd: ("createPods", body(jd, podSpec__terminationGracePeriodSeconds=301)),
        400,
        "terminationGracePeriodSeconds",
    ),
    (
        "unknown instance type",
        lambda jd: ("createPods", body(jd, podSpec__instanceType="g.n9.huge")),
        400,
        "instanceType",
    ),
    ("unknown az", lambda jd: ("createPods", body(jd, podSpec__az="cn-north-1z")), 400, "podSpec.az"),
    ("no containers", lambda jd: ("createPods", body(jd, podSpec__containers=[])), 400, "containers"),
    ("container name", lambda jd: ("createPods", body(jd, **{C + "name": "A!"})), 400, "containers[0].name"),
    (
        "env name",
        lambda jd: ("createPods", body(jd, **{C + "env": [{"name": "A B", "value": "1"}]})),
        400,
        "env[0].name",
    ),
    ("command too long", lambda jd: ("createPods", body(jd, **{C + "command": ["x" * 257]})), 400, "command"),
    ("workingDir relative", lambda jd: ("createPods", body(jd, **{C + "workingDir": "app"})), 400, "workingDir"),
    ("image bad", lambda jd: ("createPods", body(jd, **{C + "image": "UPPER/Case"})), 400, "image"),
    (
        "systemDisk size",
        lambda jd: ("createPods", body(jd, **{C + "systemDisk": {"diskType": "ssd.gp1", "sizeGB": 15}})),
        400,
        "sizeGB",
    ),
    ("tty wrong type", lambda jd: ("createPods", body(jd, **{C + "tty": 1})), 400, "tty"),
    ("secret unknown", lambda jd: ("createPods", body(jd, **{C + "secret": "nosuch"})), 404, "containers[0].secret"),
    (
        "volumes eight",
        lambda jd: (
            "createPods",
            body(
                jd,
                podSpec__volumes=[
                    {"name": f"v{i}", "jdcloudDisk": {"fsType": "xfs", "diskType": "ssd", "sizeGB": 20}}
                    for i in range(8)
                ],
            ),
        ),
        400,
        "volumes",
    ),
    ("subnet missing", lambda jd: ("createPods", body(jd, **{NIC + "subnetId": None})), 400, "subnetId"),
    ("subnet unknown", lambda jd: ("createPods", body(jd, **{NIC + "subnetId": "subnet-nope"})), 404, "subnetId"),
    (
        "security group unknown",
        lambda jd: ("createPods", body(jd, **{NIC + "securityGroups": ["sg-nope"]})),
        404,
        "securityGroups",
    ),
    (
        "six security groups",
        lambda jd: ("createPods", body(jd, **{NIC + "securityGroups": [f"sg-{i}" for i in range(6)]})),
        400,
        "securityGroups",
    ),
    (
        "primary IP outside subnet",
        lambda jd: ("createPods", body(jd, **{NIC + "primaryIpAddress": "192.0.2.10"})),
        400,
        "primaryIpAddress",
    ),
    (
        "primary IP is the gateway",
        lambda jd: (
            "createPods",
            body(jd, **{NIC + "primaryIpAddress": jd.account.subnet_cidr.rsplit(".", 1)[0] + ".1"}),
        ),
        400,
        "reserved",
    ),
    (
        "primary IP with maxCount 2",
        lambda jd: (
            "createPods",
            body(jd, maxCount=2, **{NIC + "primaryIpAddress": jd.account.subnet_cidr.rsplit(".", 1)[0] + ".50"}),
        ),
        400,
        "maxCount",
    ),
    ("description 257", lambda jd: ("createPods", body(jd, podSpec__description="x" * 257)), 400, "description"),
    (
        "unsupported field set",
        lambda jd: ("createPods", body(jd, podSpec__agId="ag-1")),
        400,
        "agId",
    ),
    ("unknown field set", lambda jd: ("createPods", body(jd, podSpec__gpus=2)), 400, "gpus"),
    ("clientToken too long", lambda jd: ("createPods", body(jd, clientToken="t" * 65)), 400, "clientToken"),
    # NUL in any text: refused whole on every database (PostgreSQL's text cannot hold it).
    ("description NUL", lambda jd: ("createPods", body(jd, podSpec__description="a\x00b")), 400, "description"),
    ("clientToken NUL", lambda jd: ("createPods", body(jd, clientToken="t\x00")), 400, "clientToken"),
    (
        "describePods filter NUL",
        lambda jd: ("describePods", {"filters": [{"name": "name", "values": ["a\x00"]}]}),
        400,
        "filters.1.values.1",
    ),
    ("describePod id NUL", lambda jd: ("describePod", {"podId": "pod-\x00"}), 404, "no pod API"),
    ("describePods pageSize 5", lambda jd: ("describePods", {"pageSize": 5}), 400, "pageSize"),
    ("describePods pageNumber text", lambda jd: ("describePods", {"pageNumber": "x"}), 400, "pageNumber"),
    # Past the API's 32-bit Integer: once a 500 (the page's OFFSET overflowed the database's integer).
    ("describePods pageNumber 2**63", lambda jd: ("describePods", {"pageNumber": 2**63}), 400, "pageNumber"),
    ("describeSecrets pageNumber 2**31", lambda jd: ("describeSecrets", {"pageNumber": 2**31}), 400, "pageNumber"),
    (
        "getContainerLogs sinceSeconds 2**63",
        lambda jd: ("getContainerLogs", {"podId": "pod-x", "containerName": "app", "sinceSeconds": 2**63}),
        400,
        "sinceSeconds",
    ),
    (
        "describePods unknown filter",
        lambda jd: ("describePods", {"filters": [{"name": "color", "values": ["red"]}]}),
        400,
        "filters[0].name",
    ),
    (
        "describePods filter without values",
        lambda jd: ("describePods", {"filters": [{"name": "phase"}]}),
        400,
        "values",
    ),
    ("describeQuota unknown type", lambda jd: ("describeQuota", {"resourceType": "gpu"}), 400, "resourceType"),
    ("describeQuota missing type", lambda jd: ("describeQuota", {}), 400, "resourceType"),
    ("describePod unknown id", lambda jd: ("describePod", {"podId": "pod-doesnotexist"}), 404, "pod-doesnotexist"),
    ("stopPod unknown id", lambda jd: ("stopPod", {"podId": "pod-doesnotexist"}), 404, "podId"),
    (
        "modify description 257",
        lambda jd: ("modifyPodAttribute", {"podId": "pod-x", "description": "d" * 257}),
        400,
        "description",
    ),
    ("modify name", lambda jd: ("modifyPodAttribute", {"podId": "pod-x", "name": "new"}), 400, "name"),
    ("rebuild no containers", lambda jd: ("rebuildPod", {"podId": "pod-x", "containers": []}), 400, "containers"),
    ("resize unknown type", lambda jd: ("resizePod", {"podId": "pod-x", "instanceType": "zz"}), 400, "instanceType"),
    ("checkPodName maxCount 0", lambda jd: ("checkPodName", {"podName": "a", "maxCount": 0}), 400, "maxCount"),
    ("startPod with a body field", lambda jd: ("startPod", {"podId": "pod-x", "force": True}), 400, "force"),
    ("wrong region", lambda jd: ("describePods", {"regionId": "cn-east-9"}), 400, "regionId"),
    (
        "describeInstanceTypes bad filter",
        lambda jd: ("describeInstanceTypes", {"filters": [{"name": "gpu", "values": ["1"]}]}),
        400,
        "filters[0].name",
    ),
]


@pytest.mark.parametrize(("make", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_request(fake_server, make, code: int, text: str) -> None:
    jd = fake_server.jd()
    before_pods = jd.pods()["totalCount"]
    before_quota = jd.call("describeQuota", "pod")["quota"]["used"]
    action, params = make(jd)
    with pytest.raises(JdError) as e:
        jd.raw(action, params)
    assert e.value.code == code, e.value
    assert 400 <= e.value.code < 500
    assert text in e.value.message, e.value.message
    fake_server.settle()
    assert jd.pods()["totalCount"] == before_pods
    assert jd.call("describeQuota", "pod")["quota"]["used"] == before_quota
    assert not fake_server.runtime.pods


def test_at_least_thirty_cases() -> None:
    assert len(CASES) >= 30


def test_a_name_in_use_changes_nothing(fake_server) -> None:
    jd = fake_server.jd()
    jd.create_pods(pod_spec(jd.account, "dup2", [container()]))
    with pytest.raises(JdError) as e:
        jd.create_pods(pod_spec(jd.account, "dup", [container()]), 3)  # dup1, dup2, dup3: dup2 is taken
    assert (e.value.code, e.value.status) == (409, "ALREADY_EXISTS") and "dup2" in e.value.message
    assert jd.pods()["totalCount"] == 1
    assert jd.call("describeQuota", "pod")["quota"]["used"] == 1


def test_a_primary_ip_in_use_changes_nothing(fake_server) -> None:
    jd = fake_server.jd()
    [pod_id] = jd.create_pods(pod_spec(jd.account, "a", [container()]))
    ip = jd.pod(pod_id)["privateIpAddress"]
    with pytest.raises(JdError, match="in use") as e:
        jd.create_pods(pod_spec(jd.account, "b", [container()], primary_ip=ip))
    assert e.value.code == 409 and jd.pods()["totalCount"] == 1
