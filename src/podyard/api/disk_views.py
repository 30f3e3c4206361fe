"""Disks, snapshots and quotas in the shapes of the disk SDK's models
(``jdcloud_sdk/services/disk/models``: Disk, DiskAttachment, Snapshot, Quota)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from podyard.domain.disks import DiskStatus
from podyard.domain.records import DiskRecord, SnapshotRecord
from podyard.domain.status import iso

INSTANCE_TYPE = "pod"  # the only kind of instance a disk is attached to here


def attachment(d: DiskRecord) -> dict[str, Any]:
    return {
        "attachmentId": None,  # an attachment is the disk's pod here, without an id of its own
        "diskId": d.disk_id,
        "instanceType": INSTANCE_TYPE,
        "instanceId": d.pod_id,
        # A pod's new disk is attached from the start, while it is being made.
        "status": "attaching" if d.status == DiskStatus.CREATING else "attached",
        "attachTime": iso(d.attached_at),
    }


def disk(d: DiskRecord, in_arrears: bool, now: datetime) -> dict[str, Any]:
    return {
        "diskId": d.disk_id,
        "az": d.az,
        "name": d.name,
        "description": d.description,
        "diskType": d.disk_type,
        "diskSizeGB": d.size_gb,
        "iops": d.iops,
        "throughput": None,
        "status": d.status,
        "attachments": [attachment(d)] if d.pod_id else [],
        "snapshotId": d.snapshot_id,
        "multiAttachable": False,
        "encrypted": False,
        "enabled": True,
        "createTime": iso(d.created_at),
        "charge": {
            "chargeMode": d.charge.mode,
            "chargeStatus": d.charge.status(now, in_arrears),
            "chargeStartTime": iso(d.charge.start),
            "chargeExpiredTime": iso(d.charge.expires),
            "chargeRetireTime": iso(d.charge.expires),
        },
        "tags": [{"key": k, "value": v} for k, v in d.tags],
        "snapshotPolicies": [],
        "resourceGroupId": None,
        "canPutInRecycleBin": False,
        "trashTime": None,
    }


def snapshot(s: SnapshotRecord) -> dict[str, Any]:
    return {
        "snapshotId": s.snapshot_id,
        "snapshotSource": "self",
        "diskId": s.disk_id,
        "snapshotSizeGB": s.size_gb,
        "images": [],
        "name": s.name,
        "description": s.description,
        "status": s.status,
        "createTime": iso(s.created_at),
        "expireTime": None,
        "sharInfo": [],
        "shareInfo": [],
        "encrypted": False,
    }
