"""The reconciler: one worker per pod, woken by services, runtime events and a periodic resync.

For each pod it reads the store (what the user asked for) and the runtime (what
runs), acts to close the gap, and writes the observed status back:

- a pod whose generation is not in the runtime is created there (images pulled,
  with back-off on failure); leftovers of an interrupted create are removed first;
- desired ``running``: containers are started, and restarted by the restart
  policy with exponential back-off (restartCount, lastState);
- desired ``stopped``: containers are stopped within the grace period;
- desired ``deleted``: stopped, removed, and the pod forgotten (its address freed).

A crash at any line leaves the store and runtime in a state the next pass repairs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from podyard.control.backoff import Backoff
from podyard.control.podrun import pod_run
from podyard.control.status import (
    MISSING,
    completion,
    ready_condition,
    should_restart,
    start_error,
    state_of,
)
from podyard.domain.images import DEFAULT_TAG
from podyard.domain.network import gateway_of
from podyard.domain.phases import Desired, Phase
from podyard.domain.records import PodRecord
from podyard.domain.secrets import RegistryAuth
from podyard.domain.status import CREATING, ContainerState, ContainerStatus
from podyard.runtime.protocol import (
    ContainerRun,
    ImagePullFailure,
    NetworkSpec,
    PodObservation,
    Runtime,
    RuntimeFailure,
)
from podyard.store.observed import ObservedStore
from podyard.store.pods import Observation

log = logging.getLogger(__name__)

# A container that ran this long before it crashed starts a new back-off streak.
BACKOFF_RESET_SECONDS = 600
LATEST_RECHECK_SECONDS = 60


@dataclass(frozen=True)
class ReconcilerSettings:
    pids_limit: int = 1024
    backoff_initial: float = 1.0
    backoff_cap: float = 300.0
    resync_seconds: float = 10.0
    create_concurrency: int = 8


def _fingerprint(obs: PodObservation | None) -> Hashable:
    if obs is None:
        return None
    return obs.generation, tuple(
        sorted((n, c.state, c.exit_code, c.started_at, c.finished_at) for n, c in obs.containers.items())
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Reconciler:
    def __init__(self, store: ObservedStore, runtime: Runtime, settings: ReconcilerSettings) -> None:
        self.store = store
        self.runtime = runtime
        self.settings = settings
        self._restarts = Backoff(settings.backoff_initial, settings.backoff_cap)
        self._retries = Backoff(settings.backoff_initial, settings.backoff_cap)
        self._wake: dict[str, asyncio.Event] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._image_locks: dict[str, asyncio.Lock] = {}
        self._checked_images: dict[tuple[str, str, RegistryAuth | None], float] = {}
        self._seen: dict[str, Hashable] = {}  # each pod as the runtime last showed it
        self._create_slots = asyncio.Semaphore(settings.create_concurrency)
        self._background: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._active = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        await self.adopt()
        self._background = [
            asyncio.create_task(self._follow_runtime(), name="reconciler-events"),
            asyncio.create_task(self._resync(), name="reconciler-resync"),
        ]

    async def stop(self) -> None:
        for t in [*self._background, *self._workers.values()]:
            t.cancel()
        for timer in self._timers.values():
            timer.cancel()
        await asyncio.gather(*self._background, *self._workers.values(), return_exceptions=True)

    async def adopt(self) -> None:
        """After a start of podyard: remove what no stored pod owns (an interrupted create
        or delete), and reconcile every stored pod, re-adopting what runs."""
        known = set(await self.store.db.run(self.store.pod_ids))
        try:
            present = list(await self.runtime.observe_all())
        except RuntimeFailure as e:
            log.error("cannot list the runtime's pods: %s", e.message)
            present = []
        for pod_id in present:
            if pod_id not in known:
                log.info("removing leftover runtime pod %s, which no stored pod owns", pod_id)
                await self.runtime.remove_pod(pod_id)
                await self.runtime.delete_logs(pod_id)
        for pod_id in known:
            self.nudge(pod_id)

    def nudge(self, pod_id: str, delay: float = 0.0) -> None:
        """Ask for a pass over the pod (thread-safe; from services too)."""
        if self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._nudge(pod_id, delay)
        else:
            self._loop.call_soon_threadsafe(self._nudge, pod_id, delay)

    def idle(self) -> bool:
        """No pass running or asked for (planned retries aside)."""
        return self._active == 0 and not any(e.is_set() for e in self._wake.values())

    # -- scheduling --------------------------------------------------------------------------

    def _nudge(self, pod_id: str, delay: float) -> None:
        assert self._loop is not None
        if delay > 0:
            timer = self._timers.get(pod_id)
            if timer is not None and timer.when() <= self._loop.time() + delay:
                return  # an earlier pass is already planned
            if timer is not None:
                timer.cancel()
            self._timers[pod_id] = self._loop.call_later(delay, self._nudge, pod_id, 0.0)
            return
        self._timers.pop(pod_id, None)
        wake = self._wake.setdefault(pod_id, asyncio.Event())
        wake.set()
        if pod_id not in self._workers:
            self._workers[pod_id] = asyncio.create_task(self._worker(pod_id, wake), name=f"pod-{pod_id}")

    async def _worker(self, pod_id: str, wake: asyncio.Event) -> None:
        """Passes over one pod run one at a time; different pods run in parallel."""
        try:
            while True:
                await wake.wait()
                wake.clear()
                self._active += 1
                try:
                    alive = await self.reconcile(pod_id)
                except RuntimeFailure as e:
                    log.warning("pod %s: %s; retrying", pod_id, e.message)
                    alive = True
                    self.nudge(pod_id, 2.0)
                except Exception:
                    log.exception("pod %s: reconcile failed; retrying", pod_id)
                    alive = True
                    self.nudge(pod_id, 5.0)
                finally:
                    self._active -= 1
                if not alive and not wake.is_set():
                    return
        finally:
            self._workers.pop(pod_id, None)
            self._wake.pop(pod_id, None)

    async def _follow_runtime(self) -> None:
        while True:
            try:
                async for pod_id in self.runtime.changes():
                    self.nudge(pod_id)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("runtime event stream ended (%s); reconnecting", e)
            await asyncio.sleep(1.0)

    async def _resync(self) -> None:
        """Polling, the fallback for events the stream missed: one sweep of the runtime,
        and a pass over each pod that looks different from when it was last seen."""
        while True:
            await asyncio.sleep(self.settings.resync_seconds)
            try:
                await self.resync_once()
            except Exception:
                log.exception("resync failed")

    async def resync_once(self) -> list[str]:
        observed = await self.runtime.observe_all()
        changed = [
            pod_id
            for pod_id in await self.store.db.run(self.store.pod_ids)
            if _fingerprint(observed.get(pod_id)) != self._seen.get(pod_id)
        ]
        for pod_id in changed:
            self.nudge(pod_id)
        return changed

    def _forget(self, pod_id: str) -> None:
        self._seen.pop(pod_id, None)
        self._restarts.forget(pod_id)
        self._retries.forget(pod_id)
        timer = self._timers.pop(pod_id, None)
        if timer is not None:
            timer.cancel()

    # -- one pass ----------------------------------------------------------------------------

    @overload
    async def _inspect(self, pod_id: str) -> PodObservation | None: ...
    @overload
    async def _inspect(self, pod_id: str, fallback: PodObservation) -> PodObservation: ...

    async def _inspect(self, pod_id: str, fallback: PodObservation | None = None) -> PodObservation | None:
        """The runtime's view of a pod (or ``fallback`` if it shows none), remembered for
        the resync's comparison."""
        obs = await self.runtime.inspect_pod(pod_id) or fallback
        self._seen[pod_id] = _fingerprint(obs)
        return obs

    async def reconcile(self, pod_id: str) -> bool:
        """One pass over a pod; False once the pod is gone for good."""
        pod = await self.store.db.run(self.store.pod, pod_id)
        if pod is None:
            await self.runtime.remove_pod(pod_id)
            self._forget(pod_id)
            return False
        obs = await self._inspect(pod_id)

        if pod.desired == Desired.DELETED:
            if obs is not None:
                await self.runtime.stop_pod(pod_id, pod.grace_seconds)
                await self.runtime.remove_pod(pod_id)
            if await self.store.db.run(self.store.forget, pod_id, pod.intent_version):
                await self.runtime.delete_logs(pod_id)
                self._forget(pod_id)
                return False
            return True

        fresh = False
        if pod.materialized_generation == pod.generation and (obs is None or obs.generation != pod.generation):
            await self._report_vanished(pod)
            return True
        if obs is None or obs.generation != pod.generation or pod.materialized_generation != pod.generation:
            obs = await self._materialize(pod, obs)
            if obs is None:
                return True
            fresh = True

        if pod.desired == Desired.RUNNING:
            await self._drive_running(pod, obs, fresh)
        else:
            await self._drive_stopped(pod, obs, fresh)
        return True

    async def _ensure_image(self, account_id: str, ref: str, auth: RegistryAuth | None) -> None:
        """Pull policy: the first use of an image by an account with given credentials (or
        none) since podyard started fetches it from the registry with them, so no one runs
        a private image someone else was allowed to pull; after that, a present image is
        used as it is, but a ``latest`` tag is re-resolved once it is over a minute old."""
        key = (account_id, ref, auth)
        async with self._image_locks.setdefault(ref, asyncio.Lock()):  # one pull serves every waiting pod
            loop = asyncio.get_running_loop()
            checked = self._checked_images.get(key)
            floating = ref.endswith(":" + DEFAULT_TAG) and "@" not in ref
            fresh = checked is not None and not (floating and loop.time() - checked > LATEST_RECHECK_SECONDS)
            if fresh and await self.runtime.has_image(ref):
                return
            await self.runtime.pull_image(ref, auth)
            self._checked_images[key] = loop.time()

    async def _materialize(self, pod: PodRecord, obs: PodObservation | None) -> PodObservation | None:
        """Create the pod's current generation in the runtime; None if that failed
        (the failure is reported and a retry planned)."""
        key = (pod.pod_id, "create")
        wait = self._retries.waiting(key, asyncio.get_running_loop().time())
        if wait is not None:
            self.nudge(pod.pod_id, wait)
            return None
        subnet = await self.store.db.run(self.store.subnet, pod.subnet_id)
        if subnet is None:
            raise RuntimeFailure(f"subnet {pod.subnet_id} of pod {pod.pod_id} is gone")
        run = pod_run(pod, subnet, self.settings.pids_limit)
        async with self._create_slots:
            pull_errors: dict[str, str] = {}
            images: dict[str, str | None] = {}
            for record, spec in zip(pod.containers, run.containers, strict=True):
                images.setdefault(spec.image, record.spec.get("secret"))
            for ref, secret in images.items():
                auth = None
                if secret:
                    auth = await self.store.db.run(self.store.registry_auth, pod.account_id, pod.region, secret)
                    if auth is None:
                        pull_errors[ref] = f"the secret {secret} this container pulls with does not exist any more"
                        continue
                try:
                    await self._ensure_image(pod.account_id, ref, auth)
                except ImagePullFailure as e:
                    pull_errors[ref] = e.message
            create_error = None
            if not pull_errors:
                try:
                    if obs is not None:  # an older generation, or what an interrupted create left
                        await self.runtime.stop_pod(pod.pod_id, pod.grace_seconds)
                        await self.runtime.remove_pod(pod.pod_id)
                    await self.runtime.ensure_network(
                        NetworkSpec(subnet.runtime_network, subnet.cidr, gateway_of(subnet.cidr))
                    )
                    await self.runtime.create_pod(run)
                except RuntimeFailure as e:
                    create_error = e.message
        if pull_errors or create_error:
            await self._report_create_failure(pod, run.containers, pull_errors, create_error, key)
            return None
        self._retries.succeeded(key)
        created = await self._inspect(pod.pod_id)
        if created is None:
            raise RuntimeFailure(f"pod {pod.pod_id} vanished right after it was created")
        # Record the generation at once, so a crash from here on is not taken for a half-made pod.
        statuses = [ContainerStatus(name=c.name) for c in pod.containers]
        await self._save(pod, None, None, None, statuses, pod.start_time, materialized=True)
        return created

    async def _report_create_failure(
        self,
        pod: PodRecord,
        containers: Sequence[ContainerRun],
        pull_errors: dict[str, str],
        create_error: str | None,
        key: tuple[str, str],
    ) -> None:
        loop_now = asyncio.get_running_loop().time()
        again = pod.desired == Desired.RUNNING
        if again:
            delay = self._retries.failed(key, loop_now) - loop_now
            self.nudge(pod.pod_id, delay)
        statuses = []
        for c, run in zip(pod.containers, containers, strict=True):
            ref = run.image
            prev = c.status.state
            if ref in pull_errors:
                reason = "ImagePullBackOff" if prev.reason in ("ErrImagePull", "ImagePullBackOff") else "ErrImagePull"
                state = ContainerState("waiting", reason=reason, message=pull_errors[ref])
            elif create_error:
                state = ContainerState("waiting", reason="CreateContainerError", message=create_error)
            else:
                state = CREATING
            statuses.append(ContainerStatus(name=c.name, state=state, restart_count=c.status.restart_count))
        waiting = (
            next(s.state for s in statuses if s.state.reason != CREATING.reason)
            if (pull_errors or create_error)
            else CREATING
        )
        phase = Phase.PENDING if again else Phase.STOPPED
        await self._save(pod, phase, waiting.reason, waiting.message, statuses, pod.start_time, materialized=False)

    async def _report_vanished(self, pod: PodRecord) -> None:
        statuses = [
            ContainerStatus(
                name=c.name, state=MISSING, last_state=c.status.last_state, restart_count=c.status.restart_count
            )
            for c in pod.containers
        ]
        await self._save(
            pod,
            Phase.ERROR,
            "ContainersMissing",
            "the pod's containers were removed outside podyard; delete the pod",
            statuses,
            pod.start_time,
            materialized=True,
        )

    async def _drive_running(self, pod: PodRecord, obs: PodObservation, fresh: bool) -> None:
        now = _now()
        loop_now = asyncio.get_running_loop().time()
        previous = {c.name: (ContainerStatus(name=c.name) if fresh else c.status) for c in pod.containers}
        start_errors: dict[str, str] = {}
        starting = pod.phase in (Phase.PENDING, Phase.STARTING) or fresh
        if starting and any(c.state != "running" for c in obs.containers.values()):
            start_errors = await self.runtime.start_pod(pod.pod_id)
            obs = await self._inspect(pod.pod_id, obs)

        statuses: list[ContainerStatus] = []
        next_retry: float | None = None
        for c in pod.containers:
            prev = previous[c.name]
            key = (pod.pod_id, c.name)
            if c.name in start_errors:
                state: ContainerState | None = start_error(start_errors[c.name], now)
            else:
                state = state_of(obs.containers.get(c.name), prev.state)
            state = state or CREATING
            restarts, last = prev.restart_count, prev.last_state
            if should_restart(pod.restart_policy, state):
                ran = (
                    (state.finished_at - state.started_at).total_seconds()
                    if state.finished_at and state.started_at
                    else 0
                )
                if ran >= BACKOFF_RESET_SECONDS:
                    self._restarts.succeeded(key)
                due = self._restarts.failed(key, loop_now, failure=state.finished_at)
                if due <= loop_now:
                    self._restarts.retried(key)
                    restarts, last = restarts + 1, state
                    try:
                        await self.runtime.start_container(pod.pod_id, c.name)
                        state = ContainerState("running", started_at=now)
                    except RuntimeFailure as e:
                        state = start_error(e.message, now)
                        due = self._restarts.failed(key, loop_now, failure=now)
                        next_retry = min(next_retry or due, due)
                else:
                    last = state
                    state = ContainerState(
                        "waiting",
                        reason="CrashLoopBackOff",
                        message=f"back-off {due - loop_now:.0f}s restarting failed container {c.name}",
                    )
                    next_retry = min(next_retry or due, due)
            statuses.append(
                ContainerStatus(
                    name=c.name, state=state, last_state=last, restart_count=restarts, ready=state.kind == "running"
                )
            )

        phase, reason, message, desired = self._running_phase(statuses)
        start_time = pod.start_time
        if phase == Phase.RUNNING and (starting or start_time is None):
            start_time = now
        await self._save(
            pod,
            phase,
            reason,
            message,
            statuses,
            start_time,
            materialized=True,
            desired=desired,
            mac_address=obs.mac_address,
        )
        if next_retry is not None:
            self.nudge(pod.pod_id, max(0.05, next_retry - loop_now))

    @staticmethod
    def _running_phase(
        statuses: Sequence[ContainerStatus],
    ) -> tuple[Phase, str | None, str | None, Desired | None]:
        if any(s.state.reason == MISSING.reason for s in statuses):
            return Phase.ERROR, "ContainersMissing", "a container was removed outside podyard", None
        if all(s.state.kind == "terminated" for s in statuses):
            reason, message = completion(statuses)
            return Phase.STOPPED, reason, message, Desired.STOPPED
        if all(s.state == CREATING for s in statuses):
            return Phase.PENDING, None, None, None
        return Phase.RUNNING, None, None, None

    async def _drive_stopped(self, pod: PodRecord, obs: PodObservation, fresh: bool) -> None:
        if any(c.state == "running" for c in obs.containers.values()):
            await self.runtime.stop_pod(pod.pod_id, pod.grace_seconds)
            obs = await self._inspect(pod.pod_id, obs)
        self._restarts.forget(pod.pod_id)
        statuses = []
        for c in pod.containers:
            prev = ContainerStatus(name=c.name) if fresh else c.status
            state = state_of(obs.containers.get(c.name), prev.state) or ContainerState(
                "waiting", reason="Created", message="the pod is stopped; startPod runs it"
            )
            statuses.append(
                ContainerStatus(name=c.name, state=state, last_state=prev.last_state, restart_count=prev.restart_count)
            )
        keep = pod.phase == Phase.STOPPED
        await self._save(
            pod,
            Phase.STOPPED,
            pod.reason if keep else None,
            pod.message if keep else None,
            statuses,
            pod.start_time,
            materialized=True,
            mac_address=obs.mac_address,
        )

    async def _save(
        self,
        pod: PodRecord,
        phase: Phase | None,
        reason: str | None,
        message: str | None,
        statuses: Sequence[ContainerStatus],
        start_time: datetime | None,
        *,
        materialized: bool,
        desired: Desired | None = None,
        mac_address: str | None = None,
    ) -> None:
        shown = phase or pod.phase
        conditions = (ready_condition(shown, statuses, pod.conditions, _now()),)
        observation = Observation(
            phase=phase,
            reason=reason,
            message=message,
            conditions=conditions,
            containers=statuses,
            start_time=start_time,
            mac_address=mac_address or pod.mac_address,
            materialized_generation=pod.generation if materialized else pod.materialized_generation,
            desired=desired,
        )
        if self._unchanged(pod, observation):
            return
        if not await self.store.db.run(self.store.save, pod.pod_id, pod.intent_version, observation):
            self.nudge(pod.pod_id)  # a user action came in meanwhile: look again

    @staticmethod
    def _unchanged(pod: PodRecord, obs: Observation) -> bool:
        return (
            (obs.phase is None or (obs.phase == pod.phase and obs.reason == pod.reason and obs.message == pod.message))
            and (obs.desired is None or obs.desired == pod.desired)
            and tuple(obs.conditions) == pod.conditions
            and tuple(obs.containers) == tuple(c.status for c in pod.containers)
            and obs.start_time == pod.start_time
            and obs.materialized_generation == pod.materialized_generation
            and obs.mac_address == pod.mac_address
        )
