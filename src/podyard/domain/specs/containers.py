"""Container specs of createPods and rebuildPod, with their probes, resources and disks."""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, Field, field_validator, model_validator

from podyard.domain import disks, naming
from podyard.domain.images import parse_image
from podyard.domain.resources import ContainerResources, Quantity, parse_cpu_millis, parse_memory_mb
from podyard.domain.specs.wire import AbsolutePath, Dns1123Label, EnvName, Flag, WireModel, total_length

Seconds = int
COMMAND_MAX = 256
ARGS_MAX = 2048
ENV_MAX = 100
ENV_VALUE_MAX = 1024
PATH_MAX = 1024
DISK_NAME = re.compile(r"^[\w\-.\u4e00-\u9fff]{2,128}$")


class EnvSpec(WireModel):
    name: EnvName
    value: Annotated[str, Field(max_length=ENV_VALUE_MAX)] | None = None


class ExecSpec(WireModel):
    command: Annotated[list[str], Field(min_length=1), AfterValidator(total_length(COMMAND_MAX, "command"))]


class TcpSocketSpec(WireModel):
    port: Annotated[int, Field(ge=1, le=65535)]


def _no_controls(v: str) -> str:
    # Sent as is in the probe's request: a line break would smuggle in headers.
    if any((ord(ch) < 0x20 and ch != "\t") or ord(ch) == 0x7F for ch in v):
        raise ValueError("must not contain control characters (line breaks included)")
    return v


def _request_path(v: str) -> str:
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in v):
        raise ValueError("must not contain spaces or control characters")
    return v


class HhSpec(WireModel):
    name: Annotated[str, Field(pattern=naming.HTTP_HEADER_NAME.pattern)]
    value: Annotated[str, Field(max_length=4096), AfterValidator(_no_controls)]


class HgSpec(WireModel):
    scheme: Literal["http", "https", "HTTP", "HTTPS"] | None = None
    host: Annotated[str, Field(max_length=253)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)]
    path: Annotated[str, Field(min_length=1, max_length=256), AfterValidator(_request_path)]
    http_header: Annotated[list[HhSpec], Field(max_length=64)] | None = None

    @field_validator("host")
    @classmethod
    def _host(cls, v: str | None) -> str | None:
        if v and naming.hostname_error(v) and naming.ipv4_error(v):
            raise ValueError("must be a hostname or an IPv4 address")
        return v


class ProbeSpec(WireModel):
    initial_delay_seconds: Annotated[int, Field(ge=0, le=300)] | None = None
    period_seconds: Annotated[int, Field(ge=1, le=300)] | None = None
    timeout_seconds: Annotated[int, Field(ge=1, le=300)] | None = None
    failure_threshold: Annotated[int, Field(ge=1, le=10)] | None = None
    success_threshold: Annotated[int, Field(ge=1, le=10)] | None = None
    # The Python SDK sends this field as "exec_" (its attribute name); the docs say "exec".
    exec_: ExecSpec | None = Field(None, validation_alias=AliasChoices("exec", "exec_"), serialization_alias="exec")
    http_get: HgSpec | None = None
    tcp_socket: TcpSocketSpec | None = None

    @model_validator(mode="after")
    def _one_handler(self) -> ProbeSpec:
        handlers = [h for h in (self.exec_, self.http_get, self.tcp_socket) if h is not None]
        if len(handlers) != 1:
            raise ValueError("exactly one of exec, httpGet and tcpSocket must be given")
        return self


def _cpu(v: str | None) -> str | None:
    if v is not None:
        parse_cpu_millis(v)
    return v


def _memory(v: str | None) -> str | None:
    if v is not None:
        parse_memory_mb(v)
    return v


class RequestSpec(WireModel):
    cpu: Annotated[str, AfterValidator(_cpu)] | None = None
    memory_mb: Annotated[str, AfterValidator(_memory)] | None = Field(None, alias="memoryMB")

    def quantity(self) -> Quantity:
        return Quantity(
            cpu_millis=parse_cpu_millis(self.cpu) if self.cpu else None,
            memory_mb=parse_memory_mb(self.memory_mb) if self.memory_mb else None,
        )


class ResourceRequestsSpec(WireModel):
    requests: RequestSpec | None = None
    limits: RequestSpec | None = None

    def of(self, name: str) -> ContainerResources:
        return ContainerResources(
            name=name,
            requests=self.requests.quantity() if self.requests else Quantity(),
            limits=self.limits.quantity() if self.limits else Quantity(),
        )


class CloudDiskSpec(WireModel):
    """A container's system disk: ``local`` (its writable layer on the node) or ``cloud``."""

    unsupported = {
        "volume_id": "a system disk is made with its container; existing disks are pod volumes",
        "snapshot_id": "a system disk is made with its container; disks from snapshots are pod volumes",
    }

    category: Literal["cloud", "local"] | None = None
    volume_id: str | None = None
    name: str | None = None
    snapshot_id: str | None = None
    disk_type: str | None = None
    size_gb: int | None = Field(None, alias="sizeGB")
    fs_type: Literal["xfs", "ext4"] | None = None
    iops: Annotated[int, Field(ge=1)] | None = None
    auto_delete: Flag | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str | None) -> str | None:
        if v is not None and not DISK_NAME.match(v):
            raise ValueError("must be 2-128 characters of letters, digits, Chinese, '_', '-' and '.'")
        return v

    @model_validator(mode="after")
    def _rules(self) -> CloudDiskSpec:
        if self.category == "local":
            if self.disk_type is not None or self.size_gb is not None:
                raise ValueError("a local system disk takes no diskType or sizeGB")
            return self
        error = disks.new_disk_error(self.disk_type, self.size_gb, self.iops, disks.SYSTEM_DISK_RULES)
        if error:
            raise ValueError(error)
        return self


class VolumeMountSpec(WireModel):
    name: Dns1123Label
    mount_path: Annotated[AbsolutePath, Field(min_length=1, max_length=PATH_MAX)]
    read_only: Flag | None = None

    @field_validator("mount_path")
    @classmethod
    def _not_root(cls, v: str) -> str:
        if v.rstrip("/") == "":
            raise ValueError("must not be the root directory '/'")
        return v


def _working_dir(v: str | None) -> str | None:
    if v == "":
        return None
    if v is not None and not v.startswith("/"):
        raise ValueError("must be an absolute path (starting with '/')")
    return v


def _image(v: str) -> str:
    try:
        parse_image(v)
    except ValueError as e:
        raise ValueError(f"image {e}") from None
    return v


def _unique_env(env: list[EnvSpec] | None) -> list[EnvSpec] | None:
    if env:
        seen: set[str] = set()
        for e in env:
            if e.name in seen:
                raise ValueError(f"environment variable {e.name} is given twice")
            seen.add(e.name)
    return env


def _mounts_apart(mounts: list[VolumeMountSpec] | None) -> list[VolumeMountSpec] | None:
    """Repeated and nested mount points are not allowed."""
    paths = sorted(m.mount_path.rstrip("/") + "/" for m in mounts or [])
    for a, b in itertools.pairwise(paths):
        if b.startswith(a):
            raise ValueError(f"mount paths {a.rstrip('/')} and {b.rstrip('/')} repeat or nest")
    return mounts


class _ContainerBase(WireModel):
    """What createPods' ContainerSpec and rebuildPod's RebuildContainerSpec share."""

    name: Dns1123Label
    command: Annotated[list[str], AfterValidator(total_length(COMMAND_MAX, "command"))] | None = None
    args: Annotated[list[str], AfterValidator(total_length(ARGS_MAX, "args"))] | None = None
    env: Annotated[list[EnvSpec], Field(max_length=ENV_MAX), AfterValidator(_unique_env)] | None = None
    image: Annotated[str, AfterValidator(_image)]
    secret: Annotated[str, Field(min_length=1, max_length=253)] | None = None
    tty: Flag | None = None
    working_dir: Annotated[str, Field(max_length=PATH_MAX), AfterValidator(_working_dir)] | None = None
    liveness_probe: ProbeSpec | None = None
    readiness_probe: ProbeSpec | None = None
    volume_mounts: Annotated[list[VolumeMountSpec], AfterValidator(_mounts_apart)] | None = None


class ContainerSpec(_ContainerBase):
    unsupported = {
        "image_cache_id": "image caches are not offered",
        "type": "init containers are not run yet",
    }

    image_cache_id: str | None = None
    resources: ResourceRequestsSpec | None = None
    system_disk: CloudDiskSpec
    type: str | None = None


class RebuildContainerSpec(_ContainerBase):
    pass
