"""Making the runtime pod: a pod's current generation, created in the runtime.

Images are fetched under the pull policy, what an older generation or an
interrupted create left is removed, then the pod and its containers are created
(not started; the network part gives the pod its interface when it starts). A failure shows on the
containers (ErrImagePull, ImagePullBackOff, CreateContainerError) and is retried
with back-off while the pod should run; a vanished subnet is permanent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from podyard import faults
from podyard.control.backoff import Backoff
from podyard.control.clock import Clock
from podyard.control.disks import PodDisks
from podyard.control.failures import PermanentFailure
from podyard.control.images import ImagePolicy
from podyard.control.podrun import pod_run
from podyard.control.writeback import StatusWriter
from podyard.disks.errors import DiskFailure
from podyard.domain.phases import Desired, Outcome
from podyard.domain.records import PodRecord
from podyard.domain.status import CREATING, ContainerState, ContainerStatus
from podyard.runtime.protocol import (
    ContainerRun,
    ImagePullFailure,
    PodObservation,
    PodRun,
    Runtime,
    RuntimeFailure,
)
from podyard.store.observed import ObservedStore


class PodMaker:
    def __init__(
        self,
        store: ObservedStore,
        runtime: Runtime,
        images: ImagePolicy,
        writer: StatusWriter,
        clock: Clock,
        retries: Backoff,
        nudge: Callable[[str, float], None],
        disks: PodDisks,
        *,
        pids_limit: int,
        concurrency: int,
    ) -> None:
        self._store = store
        self._runtime = runtime
        self._images = images
        self._writer = writer
        self._clock = clock
        self._retries = retries
        self._nudge = nudge
        self._disks = disks
        self._pids_limit = pids_limit
        self._slots = asyncio.Semaphore(concurrency)

    async def make(self, pod: PodRecord, obs: PodObservation | None) -> PodObservation | None:
        """The pod's current generation, created; None if that failed (the failure is
        shown on the pod and a retry planned)."""
        key = (pod.pod_id, "create")
        wait = self._retries.waiting(key, self._clock.monotonic())
        if wait is not None:
            self._nudge(pod.pod_id, wait)
            return None
        subnet = await self._store.db.run(self._store.subnet, pod.subnet_id)
        if subnet is None:
            raise PermanentFailure("SubnetMissing", f"the pod's subnet {pod.subnet_id} no longer exists")
        async with self._slots:
            # Its disks are made and mounted while its images are fetched.
            (volumes, create_error), pull_errors = await asyncio.gather(
                self._volumes(pod), self._fetch_images(pod, pod_run(pod, self._pids_limit))
            )
            run = pod_run(pod, self._pids_limit, volumes)
            created: PodObservation | None = None
            if not pull_errors and not create_error:
                try:
                    if obs is not None:  # an older generation, or what an interrupted create left
                        await self._runtime.stop_pod(pod.pod_id, pod.grace_seconds)
                        await self._runtime.remove_pod(pod.pod_id)
                        await self._disks.drop_layers(pod, obs.generation)
                        faults.point("create.old_removed")
                    created = await self._runtime.create_pod(run, sandbox=pod.desired == Desired.RUNNING)
                    faults.point("create.made")
                except (RuntimeFailure, DiskFailure) as e:
                    create_error = e.message
        if pull_errors or create_error:
            await self._failed(pod, run.containers, pull_errors, create_error, key)
            return None
        assert created is not None  # made, or a failure above
        self._retries.succeeded(key)
        # Record the generation at once, so a crash from here on is not taken for a half-made pod.
        await self._writer.save(pod, None, [ContainerStatus(name=c.name) for c in pod.containers])
        faults.point("create.recorded")
        return created

    async def _volumes(self, pod: PodRecord) -> tuple[dict[str, str] | None, str | None]:
        """Where the pod's disks are mounted on the host (disks.py), or why they are not."""
        try:
            return await self._disks.volumes(pod), None
        except DiskFailure as e:
            return None, f"mounting the pod's disks: {e.message}"

    async def _fetch_images(self, pod: PodRecord, run: PodRun) -> dict[str, str]:
        """Each image of the pod under the pull policy; the errors by image."""
        errors: dict[str, str] = {}
        images: dict[str, str | None] = {}
        for record, spec in zip(pod.containers, run.containers, strict=True):
            images.setdefault(spec.image, record.spec.get("secret"))
        for ref, secret in images.items():
            auth = None
            if secret:
                auth = await self._store.db.run(self._store.registry_auth, pod.account_id, pod.region, secret)
                if auth is None:
                    errors[ref] = f"the secret {secret} this container pulls with does not exist any more"
                    continue
            try:
                await self._images.ensure(pod.account_id, ref, auth)
            except ImagePullFailure as e:
                errors[ref] = e.message
        return errors

    async def _failed(
        self,
        pod: PodRecord,
        containers: Sequence[ContainerRun],
        pull_errors: dict[str, str],
        create_error: str | None,
        key: tuple[str, str],
    ) -> None:
        if pod.desired == Desired.RUNNING:
            now = self._clock.monotonic()
            self._nudge(pod.pod_id, self._retries.failed(key, now) - now)
        statuses = []
        for c, run in zip(pod.containers, containers, strict=True):
            if run.image in pull_errors:
                prev = c.status.state.reason
                reason = "ImagePullBackOff" if prev in ("ErrImagePull", "ImagePullBackOff") else "ErrImagePull"
                state = ContainerState("waiting", reason=reason, message=pull_errors[run.image])
            elif create_error:
                state = ContainerState("waiting", reason="CreateContainerError", message=create_error)
            else:
                state = CREATING
            statuses.append(ContainerStatus(name=c.name, state=state, restart_count=c.status.restart_count))
        first = next(s.state for s in statuses if s.state != CREATING)
        await self._writer.save(
            pod, Outcome.CREATING, statuses, reason=first.reason, message=first.message, materialized=False
        )
