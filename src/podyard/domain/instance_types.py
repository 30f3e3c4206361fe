"""The instance-type table: JD's names with their CPU and memory.

An instance type becomes the pod's cgroup limits: ``cpu`` cores of CPU quota and
``memory_mb`` of memory, shared by the pod's containers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InstanceType:
    name: str
    family: str
    cpu: int
    memory_mb: int
    nic_limit: int = 1
    desc: str = ""


def _t(name: str, cpu: int, memory_gb: float, desc: str) -> InstanceType:
    family = name.rsplit(".", 1)[0]
    return InstanceType(name=name, family=family, cpu=cpu, memory_mb=int(memory_gb * 1024), desc=desc)


INSTANCE_TYPES: dict[str, InstanceType] = {
    t.name: t
    for t in (
        _t("g.s1.micro", 1, 1, "General purpose, shared, 1 core 1 GB"),
        _t("g.s1.small", 1, 2, "General purpose, shared, 1 core 2 GB"),
        _t("g.n2.medium", 1, 4, "General purpose, 1 core 4 GB"),
        _t("g.n2.large", 2, 8, "General purpose, 2 cores 8 GB"),
        _t("g.n2.xlarge", 4, 16, "General purpose, 4 cores 16 GB"),
        _t("g.n2.2xlarge", 8, 32, "General purpose, 8 cores 32 GB"),
        _t("c.n2.large", 2, 4, "Compute optimized, 2 cores 4 GB"),
        _t("c.n2.xlarge", 4, 8, "Compute optimized, 4 cores 8 GB"),
        _t("c.n2.2xlarge", 8, 16, "Compute optimized, 8 cores 16 GB"),
        _t("m.n2.large", 2, 16, "Memory optimized, 2 cores 16 GB"),
        _t("m.n2.xlarge", 4, 32, "Memory optimized, 4 cores 32 GB"),
    )
}
