"""From a stored pod to what the runtime is asked to run (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podyard.domain.images import parse_image
from podyard.domain.instance_types import INSTANCE_TYPES
from podyard.domain.records import PodRecord
from podyard.domain.resources import parse_cpu_millis, parse_memory_mb
from podyard.runtime.protocol import ContainerRun, PodRun, VolumeMount

MB = 1024 * 1024


def pod_run(pod: PodRecord, pids_limit: int, volumes: Mapping[str, str] | None = None) -> PodRun:
    """``volumes``: where each of the pod's volumes is mounted on the host, by name (None:
    no disk part, the volumes are not mounted)."""
    instance = INSTANCE_TYPES[pod.instance_type]
    dns = pod.spec.get("dnsConfig") or {}
    containers = []
    for c in pod.containers:
        spec = c.spec
        limits = (spec.get("resources") or {}).get("limits") or {}
        cpu = parse_cpu_millis(limits["cpu"]) if limits.get("cpu") else instance.cpu * 1000
        memory_mb = parse_memory_mb(limits["memoryMB"]) if limits.get("memoryMB") else instance.memory_mb
        containers.append(
            ContainerRun(
                name=c.name,
                image=parse_image(spec["image"]).canonical,
                command=spec.get("command"),
                args=spec.get("args"),
                env={e["name"]: e.get("value") or "" for e in spec.get("env") or []},
                working_dir=spec.get("workingDir"),
                tty=bool(spec.get("tty")),
                memory_bytes=memory_mb * MB,
                cpu_millis=cpu,
                mounts=_mounts(spec, volumes),
            )
        )
    return PodRun(
        pod_id=pod.pod_id,
        generation=pod.generation,
        hostname=pod.hostname,
        ip=pod.ip,
        memory_bytes=instance.memory_mb * MB,
        cpu_millis=instance.cpu * 1000,
        pids_limit=pids_limit,
        grace_seconds=pod.grace_seconds,
        containers=containers,
        dns_servers=list(dns.get("nameservers") or []),
        dns_searches=list(dns.get("searches") or []),
        dns_options=[o["name"] + (f":{o['value']}" if o.get("value") else "") for o in dns.get("options") or []],
        host_aliases=[(h, a["ip"]) for a in pod.spec.get("hostAliases") or [] for h in a["hostnames"]],
    )


def _mounts(spec: dict[str, Any], volumes: Mapping[str, str] | None) -> tuple[VolumeMount, ...]:
    if volumes is None:
        return ()
    return tuple(
        VolumeMount(volumes[m["name"]], m["mountPath"], bool(m.get("readOnly"))) for m in spec.get("volumeMounts") or []
    )
