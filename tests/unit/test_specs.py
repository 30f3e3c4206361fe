"""Every validation rule of createPods and the other bodies: each bad input is refused
with an InvalidArgument naming the field; the good ones pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from podyard.domain.errors import InvalidArgument
from podyard.domain.specs.actions import (
    CheckPodNameRequest,
    CreatePodsRequest,
    DescribePodsQuery,
    DescribePodsStatusQuery,
    ModifyPodAttributeRequest,
    RebuildPodRequest,
    ResizePodRequest,
)
from podyard.domain.specs.wire import parse_body, parse_query


def good() -> dict[str, Any]:
    """A createPods body as the SDK sends it (nulls for unset optional fields)."""
    return {
        "podSpec": {
            "name": "web",
            "description": None,
            "hostname": None,
            "restartPolicy": None,
            "terminationGracePeriodSeconds": None,
            "instanceType": "g.n2.medium",
            "az": "cn-north-1a",
            "agId": None,
            "dnsConfig": None,
            "logConfig": None,
            "hostAliases": None,
            "volumes": None,
            "containers": [
                {
                    "name": "app",
                    "command": ["sleep", "100"],
                    "args": None,
                    "env": [{"name": "JAVA_HOME", "value": "/opt/java"}],
                    "image": "busybox",
                    "secret": None,
                    "imageCacheId": None,
                    "tty": None,
                    "workingDir": None,
                    "livenessProbe": None,
                    "readinessProbe": None,
                    "resources": None,
                    "systemDisk": {"category": None, "diskType": "ssd.gp1", "sizeGB": 20},
                    "volumeMounts": None,
                    "type": None,
                }
            ],
            "charge": None,
            "elasticIp": None,
            "primaryNetworkInterface": {
                "autoDelete": None,
                "deviceIndex": None,
                "networkInterface": {"subnetId": "subnet-1", "securityGroups": ["sg-1"]},
            },
            "secondaryNetworkInterfaces": None,
            "userTags": None,
            "resourceGroupId": None,
            "autoMatchImageCache": None,
            "autoCreateImageCache": None,
        },
        "maxCount": 1,
        "clientToken": None,
    }


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        node: Any = body
        parts = path.split(".")
        for p in parts[:-1]:
            node = node[int(p)] if p.isdigit() else node[p]
        last = parts[-1]
        if value is _DELETE:
            del node[last]
        elif last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


_DELETE = object()
POD = "podSpec"
C0 = "podSpec.containers.0"
NIC = "podSpec.primaryNetworkInterface.networkInterface"
VOL = {"name": "data", "jdcloudDisk": {"fsType": "xfs", "diskType": "ssd.gp1", "sizeGB": 20}}
CONTAINER2 = {"name": "b", "image": "busybox", "systemDisk": {"category": "local"}}

BAD: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("no podSpec", _set("podSpec", _DELETE), "podSpec: is required"),
    ("maxCount missing", _set("maxCount", _DELETE), "maxCount: is required"),
    ("maxCount 0", _set("maxCount", 0), "maxCount"),
    ("maxCount 101", _set("maxCount", 101), "maxCount"),
    ("maxCount as string", _set("maxCount", "1"), "maxCount"),
    ("maxCount as bool", _set("maxCount", True), "maxCount"),
    ("clientToken too long", _set("clientToken", "x" * 65), "clientToken"),
    ("clientToken not ASCII", _set("clientToken", "令牌"), "clientToken"),
    ("name missing", _set(f"{POD}.name", _DELETE), "podSpec.name"),
    ("name uppercase", _set(f"{POD}.name", "Web"), "podSpec.name"),
    ("name with underscore", _set(f"{POD}.name", "my_pod"), "podSpec.name"),
    ("name too long", _set(f"{POD}.name", "a" * 254), "podSpec.name"),
    ("name ends with dash", _set(f"{POD}.name", "web-"), "podSpec.name"),
    ("description 257 chars", _set(f"{POD}.description", "d" * 257), "podSpec.description"),
    ("hostname with underscore", _set(f"{POD}.hostname", "a_b"), "podSpec.hostname"),
    ("hostname 64 chars", _set(f"{POD}.hostname", "h" * 64), "podSpec.hostname"),
    ("hostname starts with dash", _set(f"{POD}.hostname", "-h"), "podSpec.hostname"),
    ("restartPolicy unknown", _set(f"{POD}.restartPolicy", "Sometimes"), "podSpec.restartPolicy"),
    ("grace negative", _set(f"{POD}.terminationGracePeriodSeconds", -1), "terminationGracePeriodSeconds"),
    ("grace 301", _set(f"{POD}.terminationGracePeriodSeconds", 301), "terminationGracePeriodSeconds"),
    ("instanceType unknown", _set(f"{POD}.instanceType", "x.huge"), "podSpec.instanceType"),
    ("instanceType missing", _set(f"{POD}.instanceType", _DELETE), "podSpec.instanceType"),
    ("az missing", _set(f"{POD}.az", _DELETE), "podSpec.az"),
    ("no containers", _set(f"{POD}.containers", []), "podSpec.containers"),
    (
        "nine containers",
        _set(f"{POD}.containers", [dict(CONTAINER2, name=f"c{i}") for i in range(9)]),
        "podSpec.containers",
    ),
    ("container names repeat", _set(f"{POD}.containers", [CONTAINER2, CONTAINER2]), "used more than once"),
    ("container name not a label", _set(f"{C0}.name", "App.1"), "containers[0].name"),
    ("container name 64 chars", _set(f"{C0}.name", "a" * 64), "containers[0].name"),
    ("image missing", _set(f"{C0}.image", _DELETE), "containers[0].image"),
    ("image uppercase repo", _set(f"{C0}.image", "Busybox"), "containers[0].image"),
    ("image bad tag", _set(f"{C0}.image", "busybox:-x"), "containers[0].image"),
    ("image too long", _set(f"{C0}.image", "a" * 640), "containers[0].image"),
    ("image tag 129 chars", _set(f"{C0}.image", "busybox:" + "t" * 129), "containers[0].image"),
    ("command too long", _set(f"{C0}.command", ["x" * 200, "y" * 57]), "containers[0].command"),
    ("args too long", _set(f"{C0}.args", ["x" * 2049]), "containers[0].args"),
    ("command not a list", _set(f"{C0}.command", "sleep 1"), "containers[0].command"),
    ("env name with dash", _set(f"{C0}.env", [{"name": "MY-VAR", "value": "1"}]), "env[0].name"),
    ("env name 65 chars", _set(f"{C0}.env", [{"name": "E" * 65}]), "env[0].name"),
    ("env value 1025 chars", _set(f"{C0}.env", [{"name": "E", "value": "v" * 1025}]), "env[0].value"),
    ("101 env", _set(f"{C0}.env", [{"name": f"E{i}", "value": ""} for i in range(101)]), "containers[0].env"),
    ("env repeats", _set(f"{C0}.env", [{"name": "E"}, {"name": "E"}]), "given twice"),
    ("workingDir relative", _set(f"{C0}.workingDir", "tmp"), "containers[0].workingDir"),
    ("workingDir 1025", _set(f"{C0}.workingDir", "/" + "w" * 1024), "containers[0].workingDir"),
    ("tty as string", _set(f"{C0}.tty", "yes"), "containers[0].tty"),
    ("systemDisk missing", _set(f"{C0}.systemDisk", _DELETE), "containers[0].systemDisk"),
    ("systemDisk size off-step", _set(f"{C0}.systemDisk", {"diskType": "ssd.gp1", "sizeGB": 25}), "sizeGB"),
    ("systemDisk reference type 10 GB", _set(f"{C0}.systemDisk", {"diskType": "ssd.gp1", "sizeGB": 10}), "sizeGB"),
    ("systemDisk seed type 110 GB", _set(f"{C0}.systemDisk", {"diskType": "ssd", "sizeGB": 110}), "sizeGB"),
    ("systemDisk unknown type", _set(f"{C0}.systemDisk", {"diskType": "nvme", "sizeGB": 20}), "diskType"),
    ("systemDisk iops not io1", _set(f"{C0}.systemDisk", {"diskType": "ssd.gp1", "sizeGB": 20, "iops": 100}), "iops"),
    ("systemDisk fsType", _set(f"{C0}.systemDisk", {"diskType": "ssd.gp1", "sizeGB": 20, "fsType": "btrfs"}), "fsType"),
    ("systemDisk existing volume", _set(f"{C0}.systemDisk", {"volumeId": "vol-1"}), "volumeId"),
    ("local disk with size", _set(f"{C0}.systemDisk", {"category": "local", "sizeGB": 20}), "systemDisk"),
    ("secret empty name", _set(f"{C0}.secret", ""), "containers[0].secret"),
    ("probe no handler", _set(f"{C0}.livenessProbe", {"periodSeconds": 5}), "exactly one"),
    (
        "probe delay 301",
        _set(f"{C0}.livenessProbe", {"initialDelaySeconds": 301, "tcpSocket": {"port": 80}}),
        "initialDelaySeconds",
    ),
    (
        "probe delay -1",
        _set(f"{C0}.readinessProbe", {"initialDelaySeconds": -1, "tcpSocket": {"port": 80}}),
        "initialDelaySeconds",
    ),
    (
        "probe period 301",
        _set(f"{C0}.readinessProbe", {"periodSeconds": 301, "tcpSocket": {"port": 80}}),
        "periodSeconds",
    ),
    (
        "probe timeout 0",
        _set(f"{C0}.livenessProbe", {"timeoutSeconds": 0, "tcpSocket": {"port": 80}}),
        "timeoutSeconds",
    ),
    (
        "probe success 11",
        _set(f"{C0}.readinessProbe", {"successThreshold": 11, "tcpSocket": {"port": 80}}),
        "successThreshold",
    ),
    (
        "probe failure 0",
        _set(f"{C0}.readinessProbe", {"failureThreshold": 0, "tcpSocket": {"port": 80}}),
        "failureThreshold",
    ),
    ("probe port 65536", _set(f"{C0}.readinessProbe", {"tcpSocket": {"port": 65536}}), "port"),
    ("probe exec empty", _set(f"{C0}.livenessProbe", {"exec": {"command": []}}), "command"),
    ("probe exec too long", _set(f"{C0}.livenessProbe", {"exec": {"command": ["x" * 257]}}), "command"),
    ("probe http port missing", _set(f"{C0}.livenessProbe", {"httpGet": {"path": "/"}}), "port"),
    ("probe http path 257", _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/" * 257}}), "path"),
    ("probe http path space", _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/a b"}}), "path"),
    ("probe http host", _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/", "host": "a_b!"}}), "host"),
    (
        "probe header name",
        _set(
            f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/", "httpHeader": [{"name": "a b", "value": "1"}]}}
        ),
        "name",
    ),
    (
        "probe header smuggling",
        _set(
            f"{C0}.livenessProbe",
            {"httpGet": {"port": 80, "path": "/", "httpHeader": [{"name": "X-A", "value": "1\r\nX-Evil: 2"}]}},
        ),
        "value",
    ),
    (
        "probe header value missing",
        _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/", "httpHeader": [{"name": "X-A"}]}}),
        "value",
    ),
    (
        "probe two handlers",
        _set(f"{C0}.readinessProbe", {"tcpSocket": {"port": 80}, "exec": {"command": ["true"]}}),
        "exactly one",
    ),
    ("probe period 0", _set(f"{C0}.livenessProbe", {"periodSeconds": 0, "tcpSocket": {"port": 80}}), "periodSeconds"),
    (
        "probe failure 11",
        _set(f"{C0}.livenessProbe", {"failureThreshold": 11, "tcpSocket": {"port": 80}}),
        "failureThreshold",
    ),
    ("probe port 0", _set(f"{C0}.livenessProbe", {"tcpSocket": {"port": 0}}), "port"),
    (
        "probe http scheme",
        _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80, "path": "/", "scheme": "ftp"}}),
        "scheme",
    ),
    ("probe http path missing", _set(f"{C0}.livenessProbe", {"httpGet": {"port": 80}}), "path"),
    ("resources bad cpu", _set(f"{C0}.resources", {"limits": {"cpu": "lots"}}), "cpu"),
    ("resources bad memory", _set(f"{C0}.resources", {"limits": {"memoryMB": "1TB"}}), "memoryMB"),
    ("limit above instance", _set(f"{C0}.resources", {"limits": {"cpu": "2"}}), "exceeds"),
    (
        "request above limit",
        _set(f"{C0}.resources", {"requests": {"memoryMB": "512"}, "limits": {"memoryMB": "256"}}),
        "above limits",
    ),
    ("type init", _set(f"{C0}.type", "init"), "containers[0].type"),
    (
        "mount of unknown volume",
        _set(f"{C0}.volumeMounts", [{"name": "data", "mountPath": "/data"}]),
        "does not define",
    ),
    ("mount at root", _set(f"{C0}.volumeMounts", [{"name": "data", "mountPath": "/"}]), "root"),
    (
        "mounts nest",
        _set(f"{C0}.volumeMounts", [{"name": "a", "mountPath": "/d"}, {"name": "b", "mountPath": "/d/e"}]),
        "nest",
    ),
    ("eight volumes", _set(f"{POD}.volumes", [dict(VOL, name=f"v{i}") for i in range(8)]), "podSpec.volumes"),
    ("volume names repeat", _set(f"{POD}.volumes", [VOL, VOL]), "used more than once"),
    (
        "volume size too big",
        _set(
            f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"fsType": "xfs", "diskType": "ssd.gp1", "sizeGB": 4010}}]
        ),
        "sizeGB",
    ),
    (
        "seed ssd volume 1010 GB",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"fsType": "xfs", "diskType": "ssd", "sizeGB": 1010}}]),
        "sizeGB",
    ),
    (
        "volume fsType unknown",
        _set(
            f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"fsType": "btrfs", "diskType": "ssd.gp1", "sizeGB": 20}}]
        ),
        "fsType",
    ),
    (
        "volume iops not io1",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"diskType": "ssd.gp1", "sizeGB": 20, "iops": 100}}]),
        "jdcloudDisk.iops",
    ),
    (
        "volume iops past 50 per GB",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"diskType": "ssd.io1", "sizeGB": 20, "iops": 1010}}]),
        "jdcloudDisk.iops",
    ),
    (
        "volume iops off step",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"diskType": "ssd.io1", "sizeGB": 20, "iops": 105}}]),
        "jdcloudDisk.iops",
    ),
    (
        "volume existing disk with a size",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"volumeId": "vol-1", "sizeGB": 20}}]),
        "jdcloudDisk.sizeGB",
    ),
    (
        "volume existing disk and a snapshot",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"volumeId": "vol-1", "snapshotId": "snapshot-1"}}]),
        "jdcloudDisk.snapshotId",
    ),
    (
        "volume from snapshot without type",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"snapshotId": "snapshot-1"}}]),
        "jdcloudDisk.diskType",
    ),
    (
        "volume disk name",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"name": "a b", "diskType": "ssd.gp1", "sizeGB": 20}}]),
        "jdcloudDisk.name",
    ),
    (
        "one disk in two volumes",
        _set(
            f"{POD}.volumes",
            [{"name": "a", "jdcloudDisk": {"volumeId": "vol-1"}}, {"name": "b", "jdcloudDisk": {"volumeId": "vol-1"}}],
        ),
        "two volumes",
    ),
    (
        "volume multiAttachable",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {**VOL["jdcloudDisk"], "multiAttachable": True}}]),
        "multiAttachable",
    ),
    ("cfs volume", _set(f"{POD}.volumes", [{**VOL, "cfs": {"id": "x"}}]), "cfs"),
    ("dns nameserver not IPv4", _set(f"{POD}.dnsConfig", {"nameservers": ["dns.example"]}), "nameservers"),
    ("21 nameservers", _set(f"{POD}.dnsConfig", {"nameservers": [f"10.0.0.{i}" for i in range(21)]}), "nameservers"),
    ("7 searches", _set(f"{POD}.dnsConfig", {"searches": [f"s{i}.example" for i in range(7)]}), "searches"),
    ("searches over 256 chars", _set(f"{POD}.dnsConfig", {"searches": ["a" * 60 + ".example"] * 5}), "256"),
    ("dns option unknown", _set(f"{POD}.dnsConfig", {"options": [{"name": "fast"}]}), "resolver option"),
    (
        "dns option value not allowed",
        _set(f"{POD}.dnsConfig", {"options": [{"name": "rotate", "value": "1"}]}),
        "take a value",
    ),
    (
        "dns option value not a number",
        _set(f"{POD}.dnsConfig", {"options": [{"name": "ndots", "value": "x"}]}),
        "whole number",
    ),
    ("11 dns options", _set(f"{POD}.dnsConfig", {"options": [{"name": "rotate"}] * 11}), "options"),
    ("logDriver other", _set(f"{POD}.logConfig", {"logDriver": "syslog"}), "logDriver"),
    ("11 host aliases", _set(f"{POD}.hostAliases", [{"hostnames": ["a"], "ip": "1.2.3.4"}] * 11), "hostAliases"),
    ("host alias bad ip", _set(f"{POD}.hostAliases", [{"hostnames": ["a"], "ip": "1.2.3"}]), "hostAliases[0].ip"),
    ("host alias no names", _set(f"{POD}.hostAliases", [{"hostnames": [], "ip": "1.2.3.4"}]), "hostnames"),
    ("host alias bad name", _set(f"{POD}.hostAliases", [{"hostnames": ["a b"], "ip": "1.2.3.4"}]), "hostnames"),
    ("subnetId missing", _set(f"{NIC}.subnetId", _DELETE), "subnetId"),
    ("no security group", _set(f"{NIC}.securityGroups", []), "securityGroups"),
    ("six security groups", _set(f"{NIC}.securityGroups", [f"sg-{i}" for i in range(6)]), "securityGroups"),
    ("security groups repeat", _set(f"{NIC}.securityGroups", ["sg-1", "sg-1"]), "repeat"),
    ("primary IP bad", _set(f"{NIC}.primaryIpAddress", "10.0.0"), "primaryIpAddress"),
    ("secondary IP bad", _set(f"{NIC}.secondaryIpAddresses", ["10.0.0"]), "secondaryIpAddresses"),
    ("21 secondary IPs", _set(f"{NIC}.secondaryIpAddresses", [f"10.0.0.{i}" for i in range(2, 23)]), "20"),
    ("secondaryIpCount 21", _set(f"{NIC}.secondaryIpCount", 21), "secondaryIpCount"),
    ("secondaryIpCount -1", _set(f"{NIC}.secondaryIpCount", -1), "secondaryIpCount"),
    (
        "secondary IPs given and counted past 20",
        lambda b: (
            _set(f"{NIC}.secondaryIpAddresses", ["10.0.0.9"] * 5)(b),
            _set(f"{NIC}.secondaryIpCount", 16)(b),
        ),
        "21 secondary IPs",
    ),
    ("sanityCheck 2", _set(f"{NIC}.sanityCheck", 2), "sanityCheck"),
    ("nic name bad", _set(f"{NIC}.networkInterfaceName", "a b"), "networkInterfaceName"),
    ("autoDelete false", _set(f"{POD}.primaryNetworkInterface.autoDelete", False), "autoDelete"),
    ("deviceIndex 2", _set(f"{POD}.primaryNetworkInterface.deviceIndex", 2), "deviceIndex"),
    ("primaryNetworkInterface missing", _set(f"{POD}.primaryNetworkInterface", _DELETE), "primaryNetworkInterface"),
    ("elastic IP bandwidth 0", _set(f"{POD}.elasticIp", {"bandwidthMbps": 0}), "bandwidthMbps"),
    ("elastic IP bandwidth 101", _set(f"{POD}.elasticIp", {"bandwidthMbps": 101}), "bandwidthMbps"),
    (
        "elastic IP prepaid",
        _set(
            f"{POD}.elasticIp",
            {"bandwidthMbps": 5, "chargeSpec": {"chargeMode": "prepaid_by_duration", "chargeDuration": 1}},
        ),
        "podSpec.elasticIp",
    ),
    ("elastic IP provider", _set(f"{POD}.elasticIp", {"bandwidthMbps": 5, "provider": "cmcc"}), "provider"),
    ("charge mode usage", _set(f"{POD}.charge", {"chargeMode": "postpaid_by_usage"}), "chargeMode"),
    ("prepaid without duration", _set(f"{POD}.charge", {"chargeMode": "prepaid_by_duration"}), "chargeDuration"),
    (
        "prepaid 10 months",
        _set(f"{POD}.charge", {"chargeMode": "prepaid_by_duration", "chargeDuration": 10}),
        "chargeDuration",
    ),
    (
        "prepaid 4 years",
        _set(f"{POD}.charge", {"chargeMode": "prepaid_by_duration", "chargeUnit": "year", "chargeDuration": 4}),
        "chargeDuration",
    ),
    ("postpaid with unit", _set(f"{POD}.charge", {"chargeUnit": "month"}), "prepaid_by_duration only"),
    ("agId not offered", _set(f"{POD}.agId", "ag-1"), "podSpec.agId"),
    ("unknown field set", _set(f"{POD}.gpu", 1), "podSpec.gpu"),
    ("unknown top-level field", _set("dryRun", True), "dryRun"),
    ("image cache on", _set(f"{POD}.autoMatchImageCache", True), "autoMatchImageCache"),
]


@pytest.mark.parametrize(("mutate", "where"), [(m, w) for _, m, w in BAD], ids=[n for n, _, _ in BAD])
def test_bad_create_is_refused_naming_the_field(mutate: Callable[[dict[str, Any]], None], where: str) -> None:
    body = good()
    mutate(body)
    with pytest.raises(InvalidArgument) as e:
        parse_body(CreatePodsRequest, body)
    assert where in e.value.message, e.value.message


def test_primary_ip_needs_max_count_one() -> None:
    body = good()
    body["podSpec"]["primaryNetworkInterface"]["networkInterface"]["primaryIpAddress"] = "10.0.0.5"
    body["maxCount"] = 2
    with pytest.raises(InvalidArgument, match="maxCount must be 1"):
        parse_body(CreatePodsRequest, body)


def test_secondary_ips_need_max_count_one() -> None:
    body = good()
    body["podSpec"]["primaryNetworkInterface"]["networkInterface"]["secondaryIpAddresses"] = ["10.0.0.5"]
    body["maxCount"] = 2
    with pytest.raises(InvalidArgument, match="maxCount must be 1 when secondaryIpAddresses"):
        parse_body(CreatePodsRequest, body)
    del body["podSpec"]["primaryNetworkInterface"]["networkInterface"]["secondaryIpAddresses"]
    body["podSpec"]["primaryNetworkInterface"]["networkInterface"]["secondaryIpCount"] = 3
    assert parse_body(CreatePodsRequest, body).max_count == 2  # counted ones go with any maxCount


GOOD: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("a volume", _set(f"{POD}.volumes", [VOL])),
    (
        "a volume without fsType (xfs)",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"diskType": "ssd.gp1", "sizeGB": 20}}]),
    ),
    (
        "an existing disk",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"volumeId": "vol-1", "formatVolume": True}}]),
    ),
    (
        "a disk from a snapshot",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"snapshotId": "s-1", "diskType": "hdd.std1"}}]),
    ),
    (
        "io1 volume at 50 per GB",
        _set(f"{POD}.volumes", [{"name": "v", "jdcloudDisk": {"diskType": "ssd.io1", "sizeGB": 20, "iops": 1000}}]),
    ),
    ("as the SDK sends it", lambda b: None),
    ("env name with underscore", _set(f"{C0}.env", [{"name": "JAVA_HOME_2", "value": None}])),
    ("seed disk types", _set(f"{C0}.systemDisk", {"diskType": "premium-hdd", "sizeGB": 10})),
    ("local system disk", _set(f"{C0}.systemDisk", {"category": "local"})),
    ("io1 with iops", _set(f"{C0}.systemDisk", {"diskType": "ssd.io1", "sizeGB": 100, "iops": 3000})),
    ("empty optional lists", _set(f"{POD}.hostAliases", [])),
    ("unknown null field", _set(f"{POD}.futureField", None)),
    (
        "prepaid 3 years",
        _set(f"{POD}.charge", {"chargeMode": "prepaid_by_duration", "chargeUnit": "year", "chargeDuration": 3}),
    ),
    ("empty workingDir", _set(f"{C0}.workingDir", "")),
    (
        "20 secondary IPs, given and counted",
        lambda b: (
            _set(f"{NIC}.secondaryIpAddresses", [f"10.0.0.{i}" for i in range(10, 20)])(b),
            _set(f"{NIC}.secondaryIpCount", 10)(b),
        ),
    ),
    (
        "resources within the type",
        _set(
            f"{C0}.resources",
            {"requests": {"cpu": "500m", "memoryMB": "1024Mi"}, "limits": {"cpu": "1", "memoryMB": "2Gi"}},
        ),
    ),
    ("registry with port", _set(f"{C0}.image", "127.0.0.1:5000/team/app:v1.2")),
    ("image by digest", _set(f"{C0}.image", "busybox@sha256:" + "a" * 64)),
    (
        "dns config",
        _set(
            f"{POD}.dnsConfig",
            {
                "nameservers": ["10.0.0.2", "10.0.0.2"],
                "searches": ["svc.local"],
                "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
            },
        ),
    ),
    ("hostname", _set(f"{POD}.hostname", "My-Host.example")),
    ("probe validated but unset", _set(f"{C0}.livenessProbe", None)),
    ("probe tcp", _set(f"{C0}.livenessProbe", {"tcpSocket": {"port": 80}})),
    (
        "probe exec, every field at its limit",
        _set(
            f"{C0}.readinessProbe",
            {
                "exec": {"command": ["sh", "-c", "x" * 251]},
                "initialDelaySeconds": 300,
                "periodSeconds": 300,
                "timeoutSeconds": 300,
                "failureThreshold": 10,
                "successThreshold": 10,
            },
        ),
    ),
    (
        "probe http, lowest limits",
        _set(
            f"{C0}.readinessProbe",
            {
                "httpGet": {
                    "scheme": "HTTPS",
                    "host": "db.internal",
                    "port": 65535,
                    "path": "/healthz?x=1",
                    "httpHeader": [{"name": "X-Probe", "value": "a b\tc"}],
                },
                "initialDelaySeconds": 0,
                "periodSeconds": 1,
                "timeoutSeconds": 1,
                "failureThreshold": 1,
                "successThreshold": 1,
            },
        ),
    ),
]


@pytest.mark.parametrize("mutate", [m for _, m in GOOD], ids=[n for n, _ in GOOD])
def test_good_create_passes(mutate: Callable[[dict[str, Any]], None]) -> None:
    body = good()
    mutate(body)
    req = parse_body(CreatePodsRequest, copy.deepcopy(body))
    assert req.pod_spec.containers[0].name == "app"


def test_dns_nameservers_are_deduplicated() -> None:
    body = good()
    body["podSpec"]["dnsConfig"] = {"nameservers": ["10.0.0.2", "10.0.0.3", "10.0.0.2"]}
    req = parse_body(CreatePodsRequest, body)
    assert req.pod_spec.dns_config.nameservers == ["10.0.0.2", "10.0.0.3"]


def test_bulk_names_follow_jd() -> None:
    body = good()
    body["maxCount"] = 3
    assert parse_body(CreatePodsRequest, body).pod_names() == ["web1", "web2", "web3"]
    body["podSpec"]["name"] = "web-[08]"
    assert parse_body(CreatePodsRequest, body).pod_names() == ["web-08", "web-09", "web-10"]


def test_probe_accepts_the_sdk_attribute_name() -> None:
    # The Python SDK serialises ProbeSpec.exec_ as "exec_".
    body = good()
    body["podSpec"]["containers"][0]["livenessProbe"] = {"exec_": {"command": ["true"]}}
    spec = parse_body(CreatePodsRequest, body).pod_spec.containers[0].liveness_probe
    assert spec is not None and spec.exec_ is not None and spec.exec_.command == ["true"]
    assert spec.model_dump(by_alias=True, exclude_none=True) == {"exec": {"command": ["true"]}}


def test_other_bodies() -> None:
    assert parse_body(ModifyPodAttributeRequest, {"description": "x"}).description == "x"
    with pytest.raises(InvalidArgument, match="name"):
        parse_body(ModifyPodAttributeRequest, {"name": "other"})
    with pytest.raises(InvalidArgument, match="description"):
        parse_body(ModifyPodAttributeRequest, {"description": "d" * 257})
    with pytest.raises(InvalidArgument, match="containers"):
        parse_body(RebuildPodRequest, {"containers": []})
    with pytest.raises(InvalidArgument, match="image"):
        parse_body(RebuildPodRequest, {"containers": [{"name": "app"}]})
    with pytest.raises(InvalidArgument, match="instanceType"):
        parse_body(ResizePodRequest, {})
    with pytest.raises(InvalidArgument, match="maxCount"):
        parse_body(CheckPodNameRequest, {"podName": "x", "maxCount": 0})
    with pytest.raises(InvalidArgument, match="must be a JSON object"):
        parse_body(CreatePodsRequest, [1, 2])


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ({"pageSize": "9"}, "pageSize"),
        ({"pageSize": "101"}, "pageSize"),
        ({"pageNumber": "0"}, "pageNumber"),
        ({"pageNumber": "one"}, "pageNumber"),
        ({"filters": [{"name": "phase"}]}, "filters[0].values"),
        ({"sorts": [{"name": "x"}]}, "sorts"),
    ],
)
def test_bad_queries(query: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        parse_query(DescribePodsQuery, query)
    assert where in e.value.message


def test_pods_status_allows_bigger_pages() -> None:
    assert parse_query(DescribePodsStatusQuery, {"pageSize": "500"}).page_size == 500
    with pytest.raises(InvalidArgument):
        parse_query(DescribePodsStatusQuery, {"pageSize": "501"})
