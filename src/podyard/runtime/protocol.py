"""The runtime Protocol: what the reconciler asks of a container engine.

Modelled on virtual-kubelet's provider interface: idempotent create/delete
(NotFound counts as done), inspect, and a stream of change notices with
polling as the fallback. A second driver needs no change above this line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from podyard.domain.probes import ProbeCheck, ProbeResult
from podyard.domain.secrets import RegistryAuth
from podyard.domain.streams import ExecState, LogQuery, Stream

LABEL_MANAGED = "podyard.managed"
LABEL_POD = "podyard.pod"
LABEL_CONTAINER = "podyard.container"
LABEL_GENERATION = "podyard.generation"


@dataclass(frozen=True)
class VolumeMount:
    """A host directory (a mounted cloud disk) bound into a container."""

    source: str
    destination: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerRun:
    name: str
    image: str  # fully qualified reference
    command: list[str] | None  # replaces the image's ENTRYPOINT
    args: list[str] | None  # replaces the image's CMD
    env: dict[str, str]
    working_dir: str | None
    tty: bool
    memory_bytes: int
    cpu_millis: int
    mounts: tuple[VolumeMount, ...] = ()


@dataclass(frozen=True)
class PodRun:
    pod_id: str
    generation: int
    hostname: str
    ip: str
    memory_bytes: int
    cpu_millis: int
    pids_limit: int
    grace_seconds: int
    containers: list[ContainerRun]
    dns_servers: list[str] = field(default_factory=list)
    dns_searches: list[str] = field(default_factory=list)
    dns_options: list[str] = field(default_factory=list)
    host_aliases: list[tuple[str, str]] = field(default_factory=list)  # (hostname, ip)


ContainerRunState = Literal["created", "running", "exited", "paused", "unknown"]


@dataclass(frozen=True)
class ContainerObservation:
    name: str
    state: ContainerRunState
    exit_code: int | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    oom_killed: bool = False
    error: str | None = None


@dataclass(frozen=True)
class PodObservation:
    pod_id: str
    generation: int
    containers: dict[str, ContainerObservation]
    mac_address: str | None = None


@dataclass(frozen=True)
class PodStorage:
    """Where a created pod's files live on the host, for the disk part."""

    id_range: tuple[int, int, int] | None  # its user namespace on the host: uid, gid, size
    cgroup: str | None  # the pod's cgroup (below it, its containers')
    layers: dict[str, str]  # container name -> the directory of its writable layer


class RuntimeFailure(Exception):
    """The runtime refused or failed an operation; ``message`` says why."""

    def __init__(self, message: str, *, reason: str = "RuntimeError") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


class RuntimeUnavailable(RuntimeFailure):
    """The runtime cannot be reached at all (its service is down or restarting)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="RuntimeUnavailable")


class ImagePullFailure(RuntimeFailure):
    def __init__(self, message: str) -> None:
        super().__init__(message, reason="ErrImagePull")


class Runtime(Protocol):
    async def has_image(self, ref: str) -> bool: ...

    async def pull_image(self, ref: str, auth: RegistryAuth | None) -> None:
        """Fetch the image from its registry (with these credentials, if any), even if it
        is present: that re-resolves its tag and checks the caller may have it."""

    async def create_pod(self, pod: PodRun, *, sandbox: bool = False) -> PodObservation:
        """Create the pod and its containers, started by nothing: start_pod runs them. With
        ``sandbox``, the sandbox is started too (a pod that is to run). What was made."""

    async def storage(self, pod_id: str) -> PodStorage | None:
        """The created pod's user-namespace range, cgroup and writable layers (None: no pod)."""

    async def start_sandbox(self, pod_id: str) -> int:
        """Start what holds the pod's namespaces, if it does not run; the pid whose network
        namespace is the pod's (the network part gives it its interface)."""

    async def start_pod(self, pod_id: str, names: list[str]) -> dict[str, str]:
        """Start the sandbox and these containers (the pod's); returns the containers that
        failed to start, by name, with the runtime's reason. One that is gone is skipped:
        the next inspect finds it missing."""

    async def start_container(self, pod_id: str, name: str) -> None: ...

    async def stop_container(self, pod_id: str, name: str, grace_seconds: int) -> None:
        """Stop one container (SIGTERM, then SIGKILL after the grace period)."""

    async def probe(self, pod_id: str, container: str, check: ProbeCheck, pod_ip: str) -> ProbeResult:
        """Run one check inside the pod: ``exec`` in the container, ``tcpSocket`` and
        ``httpGet`` from the pod's own network namespace, to ``check.host`` (resolved
        as the pod resolves it) or else ``pod_ip``. Never raises for a failed check,
        a timeout or a pod that is not running: those are a failed result."""

    async def stop_pod(self, pod_id: str, grace_seconds: int) -> None:
        """Stop every container (SIGTERM, then SIGKILL after the grace period)."""

    async def remove_pod(self, pod_id: str) -> None:
        """Remove the pod and its containers; a missing pod counts as removed."""

    async def inspect_pod(self, pod_id: str) -> PodObservation | None: ...

    async def observe_all(self) -> dict[str, PodObservation]:
        """Every pod this podyard manages in the runtime, by id, in one sweep (no OOM
        detail): for adoption and for the periodic resync."""

    def changes(self) -> AsyncIterator[str]:
        """Ids of pods whose containers changed state, as the runtime reports them."""

    async def delete_logs(self, pod_id: str) -> None:
        """Forget a deleted pod's logs (remove_pod keeps them, for rebuilds)."""

    async def read_logs(self, pod_id: str, container: str, query: LogQuery) -> bytes: ...

    async def exec_create(self, pod_id: str, container: str, command: list[str], tty: bool) -> str:
        """Prepare a process in a running container; returns the runtime's exec id."""

    async def exec_start(self, exec_id: str, tty: bool) -> Stream: ...

    async def exec_state(self, exec_id: str) -> ExecState | None: ...

    async def exec_kill(self, exec_id: str) -> None:
        """End an exec'd process (and what it started), e.g. when its client went away."""

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None: ...

    async def attach(self, pod_id: str, container: str, stdin: bool) -> Stream:
        """The container's main process output from now on (and its input, if asked)."""

    async def resize(self, pod_id: str, container: str, height: int, width: int) -> None: ...
