"""An in-memory runtime for the fast tests of the layers above the runtime.

Never used to run a user's pod: end-to-end tests and ``podyard serve`` use Podman.
Containers run the moment they start and end with 143 when stopped; an image
whose reference contains ``unpullable`` cannot be pulled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from podyard.runtime.protocol import (
    ContainerObservation,
    ImagePullFailure,
    NetworkSpec,
    PodObservation,
    PodRun,
    RuntimeFailure,
)


@dataclass
class FakePod:
    run: PodRun
    containers: dict[str, ContainerObservation]


class FakeRuntime:
    def __init__(self) -> None:
        self.pods: dict[str, FakePod] = {}
        self.images: set[str] = set()
        self.networks: dict[str, NetworkSpec] = {}
        self.pulls: list[str] = []
        # Test hook: containers (by name) whose process ends at once with this code.
        self.exit_at_start: dict[str, int] = {}
        self._changes: asyncio.Queue[str] = asyncio.Queue()

    def _changed(self, pod_id: str) -> None:
        self._changes.put_nowait(pod_id)

    async def ensure_network(self, net: NetworkSpec) -> None:
        self.networks[net.name] = net

    async def has_image(self, ref: str) -> bool:
        return ref in self.images

    async def pull_image(self, ref: str) -> None:
        self.pulls.append(ref)
        if "unpullable" in ref:
            raise ImagePullFailure(f"initializing source docker://{ref}: manifest unknown")
        self.images.add(ref)

    async def create_pod(self, pod: PodRun) -> None:
        if pod.pod_id in self.pods:
            raise RuntimeFailure(f"pod {pod.pod_id} already exists")
        self.pods[pod.pod_id] = FakePod(
            run=pod, containers={c.name: ContainerObservation(name=c.name, state="created") for c in pod.containers}
        )

    async def start_pod(self, pod_id: str) -> dict[str, str]:
        for name in list(self._pod(pod_id).containers):
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

    async def list_pods(self) -> list[str]:
        return list(self.pods)

    async def changes(self) -> AsyncIterator[str]:
        while True:
            yield await self._changes.get()

    def _pod(self, pod_id: str) -> FakePod:
        if pod_id not in self.pods:
            raise RuntimeFailure(f"no pod {pod_id}")
        return self.pods[pod_id]
