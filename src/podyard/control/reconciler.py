"""The reconciler: makes the runtime match the store, one pass per pod at a time.

A pass reads what the user asked for (the store) and what runs (the runtime), then:
1. a pod the store forgot, or one being deleted, is stopped and removed;
2. a pod whose containers vanished outside podyard is reported, not remade;
3. a pod whose current generation is not in the runtime is made there (creating);
4. its containers are driven to run or to stop (driving: restarts, probes);
5. what was seen is written back (writeback), the phase from the phase table.

Passes are scheduled per pod (scheduling), woken by services, runtime events and a
periodic resync (watching). A failure is retried with back-off, unless it is
permanent (failures): then it shows on the pod. A crash at any line leaves a state
the next pass repairs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace

from podyard import faults
from podyard.control.backoff import Backoff
from podyard.control.clock import Clock, LoopClock
from podyard.control.creating import PodMaker
from podyard.control.disks import PodDisks
from podyard.control.driving import ContainerDriver
from podyard.control.failures import PermanentFailure
from podyard.control.images import ImagePolicy, RegistryCheck
from podyard.control.networking import PodNetworks, Pools
from podyard.control.probes import Prober
from podyard.control.restarts import RestartPolicy
from podyard.control.scheduling import PodScheduler
from podyard.control.status import MISSING
from podyard.control.watching import RuntimeWatch
from podyard.control.writeback import StatusWriter
from podyard.disks.host import DiskHost
from podyard.domain.phases import Desired, Outcome
from podyard.domain.records import PodRecord
from podyard.network.dataplane import Dataplane
from podyard.runtime.protocol import PodObservation, Runtime, RuntimeFailure
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReconcilerSettings:
    pids_limit: int = 1024
    backoff_initial: float = 1.0
    backoff_cap: float = 300.0
    resync_seconds: float = 10.0
    create_concurrency: int = 8
    elastic_ip_pool: str = "127.100.0.0/24"
    inner_pool: str = "10.226.0.0/16"


class Reconciler:
    def __init__(
        self,
        store: ObservedStore,
        runtime: Runtime,
        settings: ReconcilerSettings,
        clock: Clock | None = None,
        dataplane: Dataplane | None = None,
        registry_check: RegistryCheck | None = None,
        disk_host: DiskHost | None = None,
    ) -> None:
        self.store = store
        self.runtime = runtime
        self.settings = settings
        self.clock = clock or LoopClock()
        backoff = lambda: Backoff(settings.backoff_initial, settings.backoff_cap)  # noqa: E731
        self.scheduler = PodScheduler(self.reconcile, self.clock, backoff())
        self.watch = RuntimeWatch(store, runtime, self.clock, self.nudge)
        self.writer = StatusWriter(store, self.clock, self.nudge)
        self.images = ImagePolicy(runtime, self.clock, registry_check=registry_check)
        self.disks = PodDisks(store, runtime, disk_host, self.nudge)
        self.maker = PodMaker(
            store, runtime, self.images, self.writer, self.clock, backoff(), self.nudge,
            self.disks, pids_limit=settings.pids_limit, concurrency=settings.create_concurrency,
        )  # fmt: skip
        self.restarts = RestartPolicy(runtime, self.clock, backoff())
        self.prober = Prober(runtime, self.clock, self.nudge)
        self.networks = PodNetworks(store, runtime, dataplane, Pools(settings.elastic_ip_pool, settings.inner_pool))
        self.driver = ContainerDriver(runtime, self.clock, self.restarts, self.prober, self.writer,
                                      self.watch.inspect, self.nudge, self.networks, self.disks)  # fmt: skip
        self._background: list[asyncio.Task[None]] = []
        self._adopting: set[str] = set()  # stored pods without a pass since the start
        self._adopt_started = 0.0

    async def start(self) -> None:
        self.scheduler.bind()
        self.networks.start()
        await self.adopt()
        self.disks.start()
        self._background = [
            asyncio.create_task(self.watch.follow(), name="reconciler-events"),
            asyncio.create_task(self.watch.resync_every(self.settings.resync_seconds), name="reconciler-resync"),
        ]

    async def stop(self) -> None:
        for t in self._background:
            t.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.scheduler.stop()
        await self.prober.stop()
        await self.networks.stop()
        await self.disks.stop()

    async def adopt(self) -> None:
        """After a start of podyard: remove what no stored pod owns (an interrupted create
        or delete), and reconcile every stored pod, re-adopting what runs."""
        known = set(await self.store.db.run(self.store.pod_ids))
        try:
            observed = await self.runtime.observe_all()
            self.watch.prime(observed, known)
        except RuntimeFailure as e:
            log.error("cannot list the runtime's pods: %s", e.message)
            observed = {}
        present = list(observed)
        for pod_id in present:
            if pod_id not in known:
                log.info("removing leftover runtime pod %s, which no stored pod owns", pod_id)
                await self.runtime.remove_pod(pod_id)
                await self.runtime.delete_logs(pod_id)
        await self.networks.adopt(await self.store.db.run(self.store.pod_vpcs))
        await self.disks.adopt()
        self._adopting, self._adopt_started = set(known), self.clock.monotonic()
        for pod_id in known:
            self.nudge(pod_id)

    def nudge(self, pod_id: str, delay: float = 0.0) -> None:
        """Ask for a pass over the pod (thread-safe; from services too)."""
        self.scheduler.nudge(pod_id, delay)

    def idle(self) -> bool:
        return self.scheduler.idle()

    async def resync_once(self) -> list[str]:
        return await self.watch.resync_once()

    async def reconcile(self, pod_id: str) -> bool:
        """One pass over a pod; False once the pod is gone for good."""
        try:
            return await self._reconcile(pod_id)
        finally:
            self._adopted(pod_id)

    def _adopted(self, pod_id: str) -> None:
        """Say once when every pod stored at the start has had its first pass (bench/restart.py reads it)."""
        if pod_id in self._adopting:
            self._adopting.discard(pod_id)
            if not self._adopting:
                took = self.clock.monotonic() - self._adopt_started
                log.info("every stored pod has had its first pass since the start, %.1f s after adopt began", took)

    async def _reconcile(self, pod_id: str) -> bool:
        pod = await self.store.db.run(self.store.pod, pod_id)
        if pod is None:
            await self.runtime.remove_pod(pod_id)
            self._forget(pod_id)
            return False
        obs = await self.watch.inspect(pod_id)
        if pod.desired == Desired.DELETED:
            return not await self._delete(pod, obs)
        try:
            if pod.materialized_generation == pod.generation and (obs is None or obs.generation != pod.generation):
                await self._report_vanished(pod)
                return True
            fresh = obs is None or obs.generation != pod.generation or pod.materialized_generation != pod.generation
            if fresh:
                self.prober.forget(pod_id)
                obs = await self.maker.make(pod, obs)
            if obs is None:
                return True
            if pod.desired == Desired.RUNNING:
                await self.driver.run(pod, obs, fresh)
            else:
                await self.driver.stop(pod, obs, fresh)
        except PermanentFailure as e:
            log.warning("pod %s: %s", pod_id, e.message)
            self.prober.forget(pod_id)
            statuses = [c.status for c in pod.containers]
            await self.writer.save(pod, Outcome.BROKEN, statuses, reason=e.reason, message=e.message,
                                   materialized=False)  # fmt: skip
        return True

    def _forget(self, pod_id: str) -> None:
        self.watch.forget(pod_id)
        self.scheduler.forget(pod_id)
        self.restarts.forget(pod_id)
        self.prober.forget(pod_id)

    async def _delete(self, pod: PodRecord, obs: PodObservation | None) -> bool:
        """Stop and remove the pod, then forget it; False if a newer intent came in."""
        self.prober.forget(pod.pod_id)
        if obs is not None:
            await self.runtime.stop_pod(pod.pod_id, pod.grace_seconds)
            await self.runtime.remove_pod(pod.pod_id)
            faults.point("delete.removed")
        await self.networks.unplug(pod)
        faults.point("delete.unplugged")
        await self.disks.release(pod)
        if not await self.store.db.run(self.store.forget, pod.pod_id, pod.intent_version):
            return False
        self.disks.nudge()  # its autoDelete disks are the worker's to remove now
        await self.runtime.delete_logs(pod.pod_id)
        self._forget(pod.pod_id)
        return True

    async def _report_vanished(self, pod: PodRecord) -> None:
        self.prober.forget(pod.pod_id)
        statuses = [replace(c.status, state=MISSING, ready=False) for c in pod.containers]
        message = "the pod's containers were removed outside podyard; delete the pod"
        await self.writer.save(pod, Outcome.VANISHED, statuses, reason="ContainersMissing", message=message)
