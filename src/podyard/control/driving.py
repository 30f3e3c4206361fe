"""Driving a made pod's containers towards what the user asked: running (plugged into
its VPC, started, restarted under the restart policy, probed) or stopped (within the
grace period, then unplugged), and what that came to, written back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from podyard import faults
from podyard.control.clock import Clock
from podyard.control.disks import PodDisks
from podyard.control.networking import PodNetworks
from podyard.control.probes import Prober, Target
from podyard.control.restarts import RestartPolicy
from podyard.control.status import MISSING, completion, start_error, state_of
from podyard.control.watching import Inspect
from podyard.control.writeback import StatusWriter
from podyard.domain.phases import Outcome, Phase
from podyard.domain.probes import LIVENESS_FAILED
from podyard.domain.records import ContainerRecord, PodRecord
from podyard.domain.status import CREATING, ContainerState, ContainerStatus
from podyard.runtime.protocol import PodObservation, Runtime


class ContainerDriver:
    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        restarts: RestartPolicy,
        prober: Prober,
        writer: StatusWriter,
        inspect: Inspect,
        nudge: Callable[[str, float], None],
        networks: PodNetworks,
        disks: PodDisks,
    ) -> None:
        self._networks = networks
        self._disks = disks
        self._runtime = runtime
        self._clock = clock
        self._restarts = restarts
        self._prober = prober
        self._writer = writer
        self._inspect = inspect
        self._nudge = nudge

    async def run(self, pod: PodRecord, obs: PodObservation, fresh: bool) -> None:
        now = self._clock.now()
        start_errors: dict[str, str] = {}
        starting = pod.phase in (Phase.PENDING, Phase.STARTING) or fresh
        stopped = any(c.state != "running" for c in obs.containers.values())
        if stopped:  # a container may start below: its disks are mounted first (after a reboot too)
            await self._disks.attach(pod)
        if starting and stopped:
            await self._networks.plug(pod)  # the interface is there before any container runs
            faults.point("start.plugged")
            start_errors = await self._runtime.start_pod(pod.pod_id, [c.name for c in pod.containers])
            faults.point("start.started")
            obs = await self._inspect(pod.pod_id) or obs
            await self._disks.throttle(pod)
        else:
            await self._networks.ensure(pod)

        statuses: list[ContainerStatus] = []
        retry_at: float | None = None
        for c in pod.containers:
            prev = ContainerStatus(name=c.name) if fresh else c.status
            if c.name in start_errors:
                state = start_error(start_errors[c.name], now)
            else:
                state = state_of(obs.containers.get(c.name), prev.state) or CREATING
            killed = self._prober.killed(pod.pod_id, c.name, prev.restart_count)
            if killed and state.kind == "terminated":
                state = replace(state, reason=LIVENESS_FAILED, message=killed)
            after = await self._restarts.apply(pod.pod_id, pod.restart_policy, prev, state)
            if after.retry_at is not None:
                retry_at = min(retry_at or after.retry_at, after.retry_at)
            running = after.state.kind == "running"
            self._probe(pod, c, after.restart_count if running else None)
            ready = running and self._prober.ready(pod.pod_id, c.name)
            statuses.append(ContainerStatus(c.name, after.state, after.last_state, after.restart_count, ready))

        outcome, reason, message = _running_outcome(statuses)
        if outcome == Outcome.COMPLETED:
            self._prober.forget(pod.pod_id)
        start_time = pod.start_time
        if outcome == Outcome.RUNNING and (starting or start_time is None):
            start_time = now
        await self._writer.save(
            pod, outcome, statuses, reason=reason, message=message, start_time=start_time, mac_address=obs.mac_address
        )
        if retry_at is not None:
            self._nudge(pod.pod_id, max(0.05, retry_at - self._clock.monotonic()))

    def _probe(self, pod: PodRecord, c: ContainerRecord, run: int | None) -> None:
        target = Target(pod.pod_id, c.name, pod.ip, pod.grace_seconds)
        self._prober.watch(target, self._prober.probes_of(c.spec), run)

    async def stop(self, pod: PodRecord, obs: PodObservation, fresh: bool) -> None:
        self._prober.forget(pod.pod_id)
        if any(c.state == "running" for c in obs.containers.values()):
            await self._runtime.stop_pod(pod.pod_id, pod.grace_seconds)
            faults.point("stop.stopped")
            obs = await self._inspect(pod.pod_id) or obs
        await self._networks.unplug(pod)
        self._restarts.forget(pod.pod_id)
        statuses = []
        for c in pod.containers:
            prev = ContainerStatus(name=c.name) if fresh else c.status
            state = state_of(obs.containers.get(c.name), prev.state) or ContainerState(
                "waiting", reason="Created", message="the pod is stopped; startPod runs it"
            )
            statuses.append(replace(prev, state=state, ready=False))
        keep = pod.phase == Phase.STOPPED  # a finished pod keeps saying how it finished
        await self._writer.save(
            pod,
            Outcome.STOPPED,
            statuses,
            reason=pod.reason if keep else None,
            message=pod.message if keep else None,
            mac_address=obs.mac_address,
        )


def _running_outcome(statuses: list[ContainerStatus]) -> tuple[Outcome, str | None, str | None]:
    """What a pod that should run is, from its containers; with the reason to show."""
    if any(s.state.reason == MISSING.reason for s in statuses):
        return Outcome.VANISHED, "ContainersMissing", "a container was removed outside podyard"
    if all(s.state.kind == "terminated" for s in statuses):
        reason, message = completion(statuses)
        return Outcome.COMPLETED, reason, message
    if all(s.state == CREATING for s in statuses):
        return Outcome.CREATING, None, None
    return Outcome.RUNNING, None, None
