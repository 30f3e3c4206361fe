"""An in-memory runtime for the fast tests of the layers above the runtime.

Never used to run a user's pod: end-to-end tests and ``podyard serve`` use Podman.
Containers run the moment they start and end with 143 when stopped; an image
whose reference contains ``unpullable`` cannot be pulled, one with ``private`` only
with the password ``right``.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from podyard.domain.probes import ProbeCheck, ProbeResult
from podyard.domain.secrets import RegistryAuth
from podyard.domain.streams import STDOUT, ExecState, LogQuery, Stream
from podyard.runtime import logfile
from podyard.runtime.protocol import (
    ContainerObservation,
    ImagePullFailure,
    PodObservation,
    PodRun,
    PodStorage,
    RuntimeFailure,
)


@dataclass
class FakePod:
    run: PodRun
    containers: dict[str, ContainerObservation]


@dataclass
class FakeExec:
    command: list[str]
    tty: bool
    running: bool = False
    exit_code: int | None = None
    size: tuple[int, int] | None = None
    output: asyncio.Queue[tuple[int, bytes] | None] = field(default_factory=asyncio.Queue)

    def finish(self, code: int) -> None:
        self.running, self.exit_code = False, code
        self.output.put_nowait(None)


class FakeStream:
    def __init__(self, e: FakeExec) -> None:
        self.e = e

    async def read(self) -> tuple[int, bytes] | None:
        return await self.e.output.get()

    async def write(self, data: bytes) -> None:
        if self.e.command[0] == "cat" and self.e.running:
            self.e.output.put_nowait((STDOUT, data))

    async def close_stdin(self) -> None:
        if self.e.running:
            self.e.finish(0)

    async def close(self) -> None:
        return None


class FakeRuntime:
    def __init__(self, log_root: Path | None = None) -> None:
        if log_root is None:
            log_root = Path(tempfile.mkdtemp(prefix="podyard-fake-logs-"))
            # Its own directory goes with it: a test run makes thousands of these runtimes.
            weakref.finalize(self, shutil.rmtree, log_root, True)
        self.log_root = log_root
        self.execs: dict[str, FakeExec] = {}
        self._ids = itertools.count(1)
        self.pods: dict[str, FakePod] = {}
        self.images: set[str] = set()
        self.pulls: list[str] = []
        self.pull_auth: list[RegistryAuth | None] = []
        # Test hook: containers (by name) whose process ends at once with this code.
        self.exit_at_start: dict[str, int] = {}
        self._changes: asyncio.Queue[str] = asyncio.Queue()
        self.attached: list[tuple[str, str]] = []
        self.sizes: dict[tuple[str, str], tuple[int, int]] = {}
        # Test hooks: probe results by (pod id, container, check kind), passing by default;
        # every probe asked for, in order.
        self.probe_results: dict[tuple[str, str, str], ProbeResult] = {}
        self.probes: list[tuple[str, str, ProbeCheck]] = []

    def _changed(self, pod_id: str) -> None:
        self._changes.put_nowait(pod_id)

    async def storage(self, pod_id: str) -> PodStorage | None:
        return PodStorage(id_range=None, cgroup=None, layers={}) if pod_id in self.pods else None

    async def start_sandbox(self, pod_id: str) -> int:
        self._pod(pod_id)
        return 1  # no namespaces here: the fake runtime runs without a network part

    async def has_image(self, ref: str) -> bool:
        return ref in self.images

    async def pull_image(self, ref: str, auth: RegistryAuth | None) -> None:
        self.pulls.append(ref)
        self.pull_auth.append(auth)
        if "unpullable" in ref:
            raise ImagePullFailure(f"initializing source docker://{ref}: manifest unknown")
        if "private" in ref and (auth is None or auth.password != "right"):
            raise ImagePullFailure(f"reading manifest of {ref}: unauthorized: authentication required")
        self.images.add(ref)

    async def create_pod(self, pod: PodRun, *, sandbox: bool = False) -> PodObservation:
        if pod.pod_id in self.pods:
            raise RuntimeFailure(f"pod {pod.pod_id} already exists")
        made = {c.name: ContainerObservation(name=c.name, state="created") for c in pod.containers}
        self.pods[pod.pod_id] = FakePod(run=pod, containers=dict(made))
        return PodObservation(pod.pod_id, pod.generation, made)

    async def start_pod(self, pod_id: str, names: list[str]) -> dict[str, str]:
        present = self._pod(pod_id).containers
        for name in names:
            if name in present:
                await self.start_container(pod_id, name)
        return {}

    async def start_container(self, pod_id: str, name: str) -> None:
        pod = self._pod(pod_id)
        now = datetime.now(UTC)
        if name in self.exit_at_start:
            code = self.exit_at_start[name]
            pod.containers[name] = ContainerObservation(name, "exited", exit_code=code, started_at=now, finished_at=now)
        else:
            pod.containers[name] = ContainerObservation(name=name, state="running", started_at=now)
        self._changed(pod_id)

    def exit_container(self, pod_id: str, name: str, code: int) -> None:
        """Test hook: a container's process ends by itself."""
        pod = self._pod(pod_id)
        c = pod.containers[name]
        pod.containers[name] = replace(c, state="exited", exit_code=code, finished_at=datetime.now(UTC))
        self._changed(pod_id)

    async def stop_container(self, pod_id: str, name: str, grace_seconds: int) -> None:
        pod = self._pod(pod_id)
        c = pod.containers[name]
        if c.state == "running":
            pod.containers[name] = replace(c, state="exited", exit_code=143, finished_at=datetime.now(UTC))
        self._changed(pod_id)

    async def probe(self, pod_id: str, container: str, check: ProbeCheck, pod_ip: str) -> ProbeResult:
        self.probes.append((pod_id, container, check))
        return self.probe_results.get((pod_id, container, check.kind), ProbeResult(True))

    async def stop_pod(self, pod_id: str, grace_seconds: int) -> None:
        pod = self._pod(pod_id)
        for name, c in pod.containers.items():
            if c.state == "running":
                pod.containers[name] = replace(c, state="exited", exit_code=143, finished_at=datetime.now(UTC))
        self._changed(pod_id)

    async def remove_pod(self, pod_id: str) -> None:
        self.pods.pop(pod_id, None)

    async def inspect_pod(self, pod_id: str) -> PodObservation | None:
        pod = self.pods.get(pod_id)
        if pod is None:
            return None
        return PodObservation(pod_id=pod_id, generation=pod.run.generation, containers=dict(pod.containers))

    async def observe_all(self) -> dict[str, PodObservation]:
        return {pod_id: p for pod_id in list(self.pods) if (p := await self.inspect_pod(pod_id)) is not None}

    async def changes(self) -> AsyncIterator[str]:
        while True:
            yield await self._changes.get()

    # -- logs: written in the same CRI format conmon writes, read by the same reader ----------

    def emit(self, pod_id: str, container: str, text: str, stream: str = "stdout", at: datetime | None = None) -> None:
        """Test hook: the container's process writes lines."""
        path = self.log_root / pod_id / f"{container}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = (at or datetime.now(UTC)).isoformat()
        with path.open("a") as f:
            for line in text.splitlines():
                f.write(f"{stamp} {stream} F {line}\n")

    async def read_logs(self, pod_id: str, container: str, query: LogQuery) -> bytes:
        return logfile.read(self.log_root / pod_id / f"{container}.log", query)

    async def delete_logs(self, pod_id: str) -> None:
        shutil.rmtree(self.log_root / pod_id, ignore_errors=True)

    # -- exec: ``echo WORDS`` prints, ``cat`` echoes its input, ``false`` exits 1, anything else
    # runs until its input ends or it is killed ------------------------------------------------

    async def exec_create(self, pod_id: str, container: str, command: list[str], tty: bool) -> str:
        if self._pod(pod_id).containers[container].state != "running":
            raise RuntimeFailure(f"container {container} is not running")
        exec_id = f"exec{next(self._ids)}"
        self.execs[exec_id] = FakeExec(command=command, tty=tty)
        return exec_id

    async def exec_start(self, exec_id: str, tty: bool) -> Stream:
        e = self.execs[exec_id]
        e.running = True
        if e.command[0] == "echo":
            e.output.put_nowait((STDOUT, (" ".join(e.command[1:]) + "\n").encode()))
            e.finish(0)
        elif e.command[0] == "false":
            e.finish(1)
        return FakeStream(e)

    async def exec_state(self, exec_id: str) -> ExecState | None:
        e = self.execs.get(exec_id)
        if e is None:
            return None
        return ExecState(running=e.running, exit_code=e.exit_code)

    async def exec_kill(self, exec_id: str) -> None:
        e = self.execs.get(exec_id)
        if e is not None and e.running:
            e.finish(137)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        self.execs[exec_id].size = (height, width)

    async def attach(self, pod_id: str, container: str, stdin: bool) -> Stream:
        e = FakeExec(command=["cat"], tty=stdin)
        e.running = True
        self.attached.append((pod_id, container))
        return FakeStream(e)

    async def resize(self, pod_id: str, container: str, height: int, width: int) -> None:
        self.sizes[(pod_id, container)] = (height, width)

    def _pod(self, pod_id: str) -> FakePod:
        if pod_id not in self.pods:
            raise RuntimeFailure(f"no pod {pod_id}")
        return self.pods[pod_id]
