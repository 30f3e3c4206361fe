"""Status write-back: what a pass saw goes to the store, and only when it changed.

The phase comes from the phase table (``domain.phases.settle``) for what the pass
found; the Ready condition from the containers' readiness. A write that would change
nothing is skipped, so probes and resyncs that see the same thing cost no write; a
write that loses to a newer user action is dropped, and the pod looked at again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from podyard.control.clock import Clock
from podyard.control.status import ready_condition
from podyard.domain.phases import Desired, Outcome, settle
from podyard.domain.records import PodRecord
from podyard.domain.status import ContainerStatus
from podyard.store.observed import ObservedStore
from podyard.store.pods import Observation


class StatusWriter:
    def __init__(self, store: ObservedStore, clock: Clock, nudge: Callable[[str], None]) -> None:
        self._store = store
        self._clock = clock
        self._nudge = nudge

    async def save(
        self,
        pod: PodRecord,
        outcome: Outcome | None,
        statuses: Sequence[ContainerStatus],
        *,
        reason: str | None = None,
        message: str | None = None,
        start_time: datetime | None = None,
        materialized: bool = True,
        mac_address: str | None = None,
    ) -> None:
        """``outcome`` None keeps the pod's phase (and its reason) as it is."""
        phase, desired = settle(Desired(pod.desired), outcome) if outcome is not None else (None, None)
        shown = phase or pod.phase
        conditions = (ready_condition(shown, statuses, pod.conditions, self._clock.now()),)
        observation = Observation(
            phase=phase,
            reason=reason,
            message=message,
            conditions=conditions,
            containers=statuses,
            start_time=start_time or pod.start_time,
            mac_address=mac_address or pod.mac_address,
            materialized_generation=pod.generation if materialized else pod.materialized_generation,
            desired=desired,
        )
        if _unchanged(pod, observation):
            return
        if not await self._store.db.run(self._store.save, pod.pod_id, pod.intent_version, observation):
            self._nudge(pod.pod_id)  # a user action came in meanwhile: look again


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
