"""Cloud-disk types and their size rules.

Two sets are accepted, as the user's seed description and the newer reference
disagree: the seed's ``ssd``/``premium-hdd`` with the seed's ranges, and the
reference's ``hdd.std1``/``ssd.gp1``/``ssd.io1`` with the reference's.
"""

from __future__ import annotations

from dataclasses import dataclass

FS_TYPES = ("xfs", "ext4")
IOPS_DISK_TYPE = "ssd.io1"


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

DATA_DISK_RULES: dict[str, SizeRule] = {
    "ssd": SizeRule(20, 1000, 10),
    "premium-hdd": SizeRule(20, 3000, 10),
    "hdd.std1": SizeRule(20, 4000, 10),
    "ssd.gp1": SizeRule(20, 4000, 10),
    "ssd.io1": SizeRule(20, 4000, 10),
}


def new_disk_error(
    disk_type: str | None, size_gb: int | None, iops: int | None, rules: dict[str, SizeRule]
) -> str | None:
    """The rules of a disk to be created: a known type, a size in its range and step,
    iops only where the type takes it."""
    if disk_type is None or size_gb is None:
        return "a new cloud disk needs diskType and sizeGB"
    if disk_type not in rules:
        return "diskType must be one of " + ", ".join(rules)
    error = rules[disk_type].error(size_gb)
    if error:
        return f"sizeGB {error} for {disk_type}"
    if iops is not None and disk_type != IOPS_DISK_TYPE:
        return f"iops applies to {IOPS_DISK_TYPE} disks only"
    return None
