"""CPU and memory quantities of container resources, and their rules against the instance type."""

from __future__ import annotations

import re
from dataclasses import dataclass

from podyard.domain.instance_types import InstanceType

_CPU = re.compile(r"^(?:(\d+)m|(\d+(?:\.\d{1,3})?))$")
_MEMORY = re.compile(r"^(\d+)(Mi|Gi|M|G)?$")


def parse_cpu_millis(value: str) -> int:
    """``300m`` → 300, ``2`` → 2000, ``0.5`` → 500."""
    m = _CPU.match(value)
    if not m:
        raise ValueError("must be a CPU quantity such as '500m', '1' or '1.5'")
    millis = int(m.group(1)) if m.group(1) is not None else round(float(m.group(2)) * 1000)
    if millis <= 0:
        raise ValueError("must be greater than zero")
    return millis


def parse_memory_mb(value: str) -> int:
    """``1024``, ``1024Mi`` → 1024; ``2Gi`` → 2048."""
    m = _MEMORY.match(value)
    if not m:
        raise ValueError("must be a memory size in MB such as '512', '1024Mi' or '2Gi'")
    mb = int(m.group(1)) * (1024 if m.group(2) in ("Gi", "G") else 1)
    if mb <= 0:
        raise ValueError("must be greater than zero")
    return mb


@dataclass(frozen=True)
class Quantity:
    cpu_millis: int | None = None
    memory_mb: int | None = None


@dataclass(frozen=True)
class ContainerResources:
    name: str
    requests: Quantity
    limits: Quantity


def resources_error(instance: InstanceType, containers: list[ContainerResources]) -> str | None:
    """The docs' rules: each limit within the instance type, requests not above limits,
    and the containers' requests together within the instance type."""
    cpu_cap, mem_cap = instance.cpu * 1000, instance.memory_mb
    total_cpu = total_mem = 0
    for c in containers:
        for kind, q in (("limits", c.limits), ("requests", c.requests)):
            if q.cpu_millis is not None and q.cpu_millis > cpu_cap:
                return f"container {c.name}: {kind}.cpu exceeds the {instance.cpu} core(s) of {instance.name}"
            if q.memory_mb is not None and q.memory_mb > mem_cap:
                return f"container {c.name}: {kind}.memoryMB exceeds the {mem_cap} MB of {instance.name}"
        r, lim = c.requests, c.limits
        if r.cpu_millis is not None and lim.cpu_millis is not None and r.cpu_millis > lim.cpu_millis:
            return f"container {c.name}: requests.cpu is above limits.cpu"
        if r.memory_mb is not None and lim.memory_mb is not None and r.memory_mb > lim.memory_mb:
            return f"container {c.name}: requests.memoryMB is above limits.memoryMB"
        total_cpu += r.cpu_millis or 0
        total_mem += r.memory_mb or 0
    if total_cpu > cpu_cap:
        return f"the containers' requests.cpu together exceed the {instance.cpu} core(s) of {instance.name}"
    if total_mem > mem_cap:
        return f"the containers' requests.memoryMB together exceed the {mem_cap} MB of {instance.name}"
    return None
