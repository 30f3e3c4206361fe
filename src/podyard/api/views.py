"""Records rendered in the shapes of the API docs and the SDK's models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from podyard.domain import probes
from podyard.domain.instance_types import InstanceType
from podyard.domain.memo import Memo
from podyard.domain.records import ContainerRecord, PodRecord
from podyard.domain.status import iso


def container(c: ContainerRecord) -> dict[str, Any]:
    s = c.spec
    disk = s.get("systemDisk") or {}
    return {
        "name": c.name,
        "type": None,
        "command": s.get("command"),
        "args": s.get("args"),
        "env": s.get("env") or [],
        "image": s.get("image"),
        "secret": s.get("secret"),
        "tty": bool(s.get("tty")),
        "workingDir": s.get("workingDir"),
        "livenessProbe": probes.shown(s.get("livenessProbe")),
        "readinessProbe": probes.shown(s.get("readinessProbe")),
        "resources": s.get("resources"),
        "systemDisk": {
            "category": disk.get("category", "cloud"),
            "volumeId": None,
            "snapshotId": None,
            "diskType": disk.get("diskType"),
            "sizeGB": disk.get("sizeGB"),
            "fsType": disk.get("fsType"),
            "iops": disk.get("iops"),
            "autoDelete": disk.get("autoDelete", True),
        },
        "volumeMounts": [
            {"name": m["name"], "mountPath": m["mountPath"], "readOnly": bool(m.get("readOnly")), "subPath": None}
            for m in s.get("volumeMounts") or []
        ],
        "containerStatus": c.status.to_wire(),
    }


def pod_status(p: PodRecord) -> dict[str, Any]:
    return {
        "phase": p.phase,
        "reason": p.reason,
        "message": p.message,
        "podIP": p.ip,
        "conditions": [c.to_wire() for c in p.conditions],
        "startTime": iso(p.start_time),
    }


def _charge(p: PodRecord) -> dict[str, Any]:
    """The charge's fields but its status, which depends on the time and the account."""
    return {
        "chargeMode": p.charge.mode,
        "chargeStatus": None,
        "chargeStartTime": iso(p.charge.start),
        "chargeExpiredTime": iso(p.charge.expires),
        "chargeRetireTime": iso(p.charge.expires),
    }


# The store hands out one record object for as long as a pod's stored content is the
# same (store/pods.py), so a pod's wire form is kept by that object's id, as a dict and
# encoded. The entry holds the record, so no other object can have that id while it is
# kept. Only the charge's status, which depends on the time and the account, is made anew.
@dataclass(frozen=True)
class _Kept:
    record: PodRecord
    wire: dict[str, Any]  # without its charge
    charge: dict[str, Any]  # but its status
    encoded: bytes  # wire, encoded, without its closing brace


_rendered: Memo[int, _Kept] = Memo(2048)


def _kept(p: PodRecord) -> _Kept:
    kept = _rendered.get(id(p))
    if kept is None:
        wire = _pod(p)
        kept = _Kept(p, wire, _charge(p), orjson.dumps(wire)[:-1])
        _rendered.put(id(p), kept)
    return kept


def pod(p: PodRecord, in_arrears: bool, now: datetime) -> dict[str, Any]:
    kept = _kept(p)
    out = dict(kept.wire)  # copies of the top level; what they share is never changed
    out["charge"] = {**kept.charge, "chargeStatus": p.charge.status(now, in_arrears)}
    return out


def pod_encoded(p: PodRecord, in_arrears: bool, now: datetime) -> orjson.Fragment:
    """``pod``, encoded: a page of pods is then mostly bytes encoded once (the charge last,
    as in ``pod``)."""
    kept = _kept(p)
    charge = orjson.dumps({**kept.charge, "chargeStatus": p.charge.status(now, in_arrears)})
    return orjson.Fragment(kept.encoded + b',"charge":' + charge + b"}")


def _pod(p: PodRecord) -> dict[str, Any]:
    spec = p.spec
    nic_spec = (spec.get("primaryNetworkInterface") or {}).get("networkInterface") or {}
    eip_id, eip_address = p.elastic_ip or (None, None)
    return {
        "podId": p.pod_id,
        "name": p.name,
        "description": p.description,
        "az": p.az,
        "hostname": p.hostname,
        "ag": None,
        "instanceType": p.instance_type,
        "restartPolicy": p.restart_policy,
        "terminationGracePeriodSeconds": p.grace_seconds,
        "vpcId": p.vpc_id,
        "subnetId": p.subnet_id,
        "privateIpAddress": p.ip,
        "dnsConfig": spec.get("dnsConfig"),
        "logConfig": {"logDriver": "default"},
        "hostAliases": spec.get("hostAliases") or [],
        # As createPods resolved them: each with its disk's id (services/pod_disks.py).
        "volumes": [
            {"name": v["name"], "jdcloudDisk": v["jdcloudDisk"], "cfs": None, "configFile": None, "emptyDir": None}
            for v in spec.get("volumes") or []
        ],
        "containers": [container(c) for c in p.containers],
        "podStatus": pod_status(p),
        "elasticIp": {"elasticIpId": eip_id, "elasticIpAddress": eip_address} if p.elastic_ip else None,
        "primaryNetworkInterface": {
            "autoDelete": True,
            "deviceIndex": 1,
            "attachStatus": "attached",
            "attachTime": iso(p.created_at),
            "networkInterface": {
                "networkInterfaceId": p.network_interface_id,
                "macAddress": p.mac_address,
                "vpcId": p.vpc_id,
                "subnetId": p.subnet_id,
                "description": nic_spec.get("description"),
                "securityGroups": [{"groupId": g, "groupName": n} for g, n in p.security_groups],
                "sanityCheck": nic_spec.get("sanityCheck", 1) != 0,
                "primaryIp": {"privateIpAddress": p.ip, "elasticIpId": eip_id, "elasticIpAddress": eip_address},
                "secondaryIps": [
                    {"privateIpAddress": ip, "elasticIpId": None, "elasticIpAddress": None} for ip in p.secondary_ips
                ],
            },
        },
        "tags": [{"key": k, "value": v} for k, v in p.tags],
        "charge": None,
        "createTime": iso(p.created_at),
        "resourceGroupId": None,
    }


def brief_status(p: PodRecord) -> dict[str, Any]:
    return {
        "podId": p.pod_id,
        "name": p.name,
        "description": p.description,
        "az": p.az,
        "ag": None,
        "instanceType": p.instance_type,
        "podStatus": pod_status(p),
        "containers": [container(c) for c in p.containers],
        "createTime": iso(p.created_at),
    }


def instance_type(t: InstanceType, azs: list[str]) -> dict[str, Any]:
    return {
        "family": t.family,
        "instanceType": t.name,
        "cpu": t.cpu,
        "memoryMB": t.memory_mb,
        "nicLimit": t.nic_limit,
        "desc": t.desc,
        "state": [{"az": az, "inStock": True, "online": True} for az in azs],
        "cloudDiskTypes": ["hdd.std1", "ssd.gp1", "ssd.io1"],
    }
