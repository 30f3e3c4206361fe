"""Cloud disks and snapshots: types and their size and iops rules, names, statuses, and
which action each status allows.

Two type sets are accepted, as the seed and the newer reference disagree (and the SDK
takes both): the seed's ``ssd``/``premium-hdd`` and the reference's
``hdd.std1``/``ssd.gp1``/``ssd.io1``. Their ranges differ between a container's system
disk, a pod's data volume (createPods) and a disk of the disk service (createDisks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from podyard.domain.errors import FailedPrecondition

FS_TYPES = ("xfs", "ext4")
DEFAULT_FS_TYPE = "xfs"
IOPS_DISK_TYPE = "ssd.io1"
# ssd.io1 (the SDK's DiskSpec): iops in steps of 10, 30 per GB unless given, at most 50 per GB.
IOPS_STEP = 10
IOPS_DEFAULT_PER_GB = 30
IOPS_MAX_PER_GB = 50
GB = 1024**3


@dataclass(frozen=True)
class SizeRule:
    min_gb: int
    max_gb: int
    step_gb: int

    def error(self, size_gb: int) -> str | None:
        if not self.min_gb <= size_gb <= self.max_gb or (size_gb - self.min_gb) % self.step_gb:
            return f"must be in [{self.min_gb},{self.max_gb}] GB in steps of {self.step_gb} GB"
        return None


SYSTEM_DISK_RULES: dict[str, SizeRule] = {
    "ssd": SizeRule(10, 100, 10),
    "premium-hdd": SizeRule(10, 100, 10),
    "hdd.std1": SizeRule(20, 100, 10),
    "ssd.gp1": SizeRule(20, 100, 10),
    "ssd.io1": SizeRule(20, 100, 10),
}

# A pod's data volume (createPods): the pod docs say [20,4000] for the reference's types.
DATA_DISK_RULES: dict[str, SizeRule] = {
    "ssd": SizeRule(20, 1000, 10),
    "premium-hdd": SizeRule(20, 3000, 10),
    "hdd.std1": SizeRule(20, 4000, 10),
    "ssd.gp1": SizeRule(20, 4000, 10),
    "ssd.io1": SizeRule(20, 4000, 10),
}

# A disk of the disk service (createDisks' diskSizeGB): the SDK's DiskSpec.
DISK_SERVICE_RULES: dict[str, SizeRule] = {
    "ssd": SizeRule(20, 1000, 10),
    "premium-hdd": SizeRule(20, 3000, 10),
    "hdd.std1": SizeRule(20, 16000, 10),
    "ssd.gp1": SizeRule(20, 16000, 10),
    "ssd.io1": SizeRule(20, 16000, 10),
}


def type_error(disk_type: str, rules: dict[str, SizeRule]) -> str | None:
    if disk_type not in rules:
        return "diskType must be one of " + ", ".join(rules)
    return None


def iops_error(disk_type: str, size_gb: int, iops: int | None) -> str | None:
    """iops: ssd.io1 only, a multiple of 10, at most 50 per GB of the disk."""
    if iops is None:
        return None
    if disk_type != IOPS_DISK_TYPE:
        return f"iops applies to {IOPS_DISK_TYPE} disks only"
    top = IOPS_MAX_PER_GB * size_gb
    if iops % IOPS_STEP or not IOPS_STEP <= iops <= top:
        return f"iops must be in [{IOPS_STEP},{top}] ({IOPS_MAX_PER_GB} per GB of {size_gb} GB) in steps of {IOPS_STEP}"
    return None


def size_error(disk_type: str, size_gb: int, rules: dict[str, SizeRule], field: str = "sizeGB") -> str | None:
    error = type_error(disk_type, rules)
    if error:
        return error
    error = rules[disk_type].error(size_gb)
    return f"{field} {error} for {disk_type}" if error else None


def new_disk_error(
    disk_type: str | None, size_gb: int | None, iops: int | None, rules: dict[str, SizeRule]
) -> str | None:
    """The rules of a disk to be created: a known type, a size in its range and step,
    iops only where the type takes it, in its range and step."""
    if disk_type is None or size_gb is None:
        return "a new cloud disk needs diskType and sizeGB"
    return size_error(disk_type, size_gb, rules) or iops_error(disk_type, size_gb, iops)


def applied_iops(disk_type: str, size_gb: int, iops: int | None) -> int | None:
    """What a disk is held to: the given iops, else 30 per GB for ssd.io1; none otherwise."""
    if disk_type != IOPS_DISK_TYPE:
        return None
    return iops if iops is not None else IOPS_DEFAULT_PER_GB * size_gb


# Names of disks and snapshots: Chinese, letters, digits, '_' and '-', 1 to 32 characters.
NAME = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,32}")
NAME_MAX = 32
DESCRIPTION_MAX = 256


def name_error(value: str) -> str | None:
    if not NAME.fullmatch(value):
        return "must be 1-32 characters of Chinese, letters, digits, '_' and '-'"
    return None


def batch_names(name: str, count: int) -> list[str]:
    """createDisks' names: one disk keeps the name, several are ``name-1``, ``name-2``, ..."""
    return [name] if count == 1 else [f"{name}-{i}" for i in range(1, count + 1)]


class DiskStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    IN_USE = "in-use"
    DELETING = "deleting"
    ERROR_CREATE = "error_create"
    ERROR_DELETE = "error_delete"


# Every status the SDK lists for a disk (a describeDisks filter may name any of them);
# podyard's disks never extend, restore or go to a recycle bin.
DISK_STATUSES = (
    *(s.value for s in DiskStatus),
    "extending",
    "restoring",
    "deleted",
    "error_restore",
    "error_extend",
    "in-recyclebin",
)


class SnapshotStatus(StrEnum):
    CREATING = "creating"
    AVAILABLE = "available"
    DELETING = "deleting"
    ERROR_CREATE = "error_create"
    ERROR_DELETE = "error_delete"


SNAPSHOT_STATUSES = (*(s.value for s in SnapshotStatus), "in-use", "copying")

# deleteDisk: an attached disk goes with its pod or is detached from it; one being made or
# removed waits. deleteSnapshot: "available or error" (the docs).
DISK_DELETABLE = (DiskStatus.AVAILABLE, DiskStatus.ERROR_CREATE, DiskStatus.ERROR_DELETE)
SNAPSHOT_DELETABLE = (SnapshotStatus.AVAILABLE, SnapshotStatus.ERROR_CREATE, SnapshotStatus.ERROR_DELETE)
# createSnapshot: of a disk that holds its data (attached or not).
SNAPSHOT_SOURCES = (DiskStatus.AVAILABLE, DiskStatus.IN_USE)


def made_status(attached: bool) -> DiskStatus:
    """A disk once made (or detached): in use by its pod, else available."""
    return DiskStatus.IN_USE if attached else DiskStatus.AVAILABLE


def check_disk_deletable(disk_id: str, status: str, pod_id: str | None) -> None:
    if pod_id is not None:
        raise FailedPrecondition(
            f"diskId: disk {disk_id} is attached to pod {pod_id}; delete the pod first "
            "(the disk goes with it if autoDelete, else it becomes available)"
        )
    if status not in DISK_DELETABLE:
        raise FailedPrecondition(
            f"diskId: disk {disk_id} is {status}; a disk can be deleted when "
            + ", ".join(s.value for s in DISK_DELETABLE)
        )


def check_snapshot_source(disk_id: str, status: str) -> None:
    if status not in SNAPSHOT_SOURCES:
        raise FailedPrecondition(
            f"snapshotSpec.diskId: disk {disk_id} is {status}; a snapshot is taken of an available or in-use disk"
        )


def check_snapshot_deletable(snapshot_id: str, status: str) -> None:
    if status not in SNAPSHOT_DELETABLE:
        raise FailedPrecondition(
            f"snapshotId: snapshot {snapshot_id} is {status}; a snapshot can be deleted when "
            + ", ".join(s.value for s in SNAPSHOT_DELETABLE)
        )
