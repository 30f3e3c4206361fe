"""Restart policy: containers that ended are started again (Always, OnFailure), with
exponential back-off between crashes (CrashLoopBackOff), counted in restartCount and
remembered in lastState. A container that ran for ten minutes before it ended starts
a new back-off streak.
"""

from __future__ import annotations

from dataclasses import dataclass

from podyard.control.backoff import Backoff
from podyard.control.clock import Clock
from podyard.control.status import should_restart, start_error
from podyard.domain.status import ContainerState, ContainerStatus
from podyard.runtime.protocol import Runtime, RuntimeFailure

BACKOFF_RESET_SECONDS = 600


@dataclass(frozen=True)
class Restarted:
    """A container's state after the policy was applied, and when to look again."""

    state: ContainerState
    last_state: ContainerState | None
    restart_count: int
    retry_at: float | None = None  # monotonic time of the next planned restart


class RestartPolicy:
    def __init__(self, runtime: Runtime, clock: Clock, backoff: Backoff) -> None:
        self._runtime = runtime
        self._clock = clock
        self._backoff = backoff

    async def apply(self, pod_id: str, policy: str, prev: ContainerStatus, state: ContainerState) -> Restarted:
        if not should_restart(policy, state):
            return Restarted(state, prev.last_state, prev.restart_count)
        key = (pod_id, prev.name)
        now = self._clock.monotonic()
        ran = (state.finished_at - state.started_at).total_seconds() if state.finished_at and state.started_at else 0
        if ran >= BACKOFF_RESET_SECONDS:
            self._backoff.succeeded(key)
        due = self._backoff.failed(key, now, failure=state.finished_at)
        if due > now:
            waiting = ContainerState(
                "waiting",
                reason="CrashLoopBackOff",
                message=f"back-off {due - now:.0f}s restarting failed container {prev.name}",
            )
            return Restarted(waiting, state, prev.restart_count, retry_at=due)
        self._backoff.retried(key)
        wall = self._clock.now()
        try:
            await self._runtime.start_container(pod_id, prev.name)
        except RuntimeFailure as e:
            due = self._backoff.failed(key, now, failure=wall)
            return Restarted(start_error(e.message, wall), state, prev.restart_count + 1, retry_at=due)
        return Restarted(ContainerState("running", started_at=wall), state, prev.restart_count + 1)

    def forget(self, pod_id: str) -> None:
        self._backoff.forget(pod_id)
