"""Watching the runtime: what it last showed of each pod, its change events, and the
periodic resync that catches what the events missed.

Every look at a pod goes through ``inspect``, which remembers a fingerprint of it;
the resync sweeps the runtime once and asks for a pass over each pod whose
fingerprint differs from what the last pass saw.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

from podyard.control.clock import Clock
from podyard.runtime.protocol import PodObservation, Runtime
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)

Inspect = Callable[[str], Awaitable[PodObservation | None]]  # RuntimeWatch.inspect, handed to the jobs


def _fingerprint(obs: PodObservation | None) -> Hashable:
    if obs is None:
        return None
    return obs.generation, tuple(
        sorted((n, c.state, c.exit_code, c.started_at, c.finished_at) for n, c in obs.containers.items())
    )


class RuntimeWatch:
    def __init__(self, store: ObservedStore, runtime: Runtime, clock: Clock, nudge: Callable[[str], None]) -> None:
        self._store = store
        self._runtime = runtime
        self._clock = clock
        self._nudge = nudge
        self._seen: dict[str, Hashable] = {}  # each pod as the runtime last showed it
        self._primed: dict[str, PodObservation | None] = {}  # first inspects after a start

    async def inspect(self, pod_id: str) -> PodObservation | None:
        """The runtime's view of a pod, remembered for the resync's comparison."""
        if pod_id in self._primed:
            obs = self._primed.pop(pod_id)
        else:
            obs = await self._runtime.inspect_pod(pod_id)
        self._seen[pod_id] = _fingerprint(obs)
        return obs

    def prime(self, observed: dict[str, PodObservation], known: set[str]) -> None:
        """At a start: what one sweep of the runtime showed answers each known pod's first
        inspect (one list for all, not one inspect each). A pod with a container that is
        not running is inspected for real: only that tells an out-of-memory kill."""
        self._primed = {p: None for p in known if p not in observed}
        for pod_id, obs in observed.items():
            if pod_id in known and all(c.state == "running" for c in obs.containers.values()):
                self._primed[pod_id] = obs

    def forget(self, pod_id: str) -> None:
        self._seen.pop(pod_id, None)
        self._primed.pop(pod_id, None)

    async def follow(self) -> None:
        """Runtime events, as long as podyard runs (reconnecting when the stream ends)."""
        while True:
            try:
                async for pod_id in self._runtime.changes():
                    self._nudge(pod_id)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.debug("runtime event stream ended (%s); reconnecting", e)
            await self._clock.sleep(1.0)

    async def resync_every(self, seconds: float) -> None:
        while True:
            await self._clock.sleep(seconds)
            try:
                await self.resync_once()
            except Exception:
                log.exception("resync failed")

    async def resync_once(self) -> list[str]:
        observed = await self._runtime.observe_all()
        changed = [
            pod_id
            for pod_id in await self._store.db.run(self._store.pod_ids)
            if _fingerprint(observed.get(pod_id)) != self._seen.get(pod_id)
        ]
        for pod_id in changed:
            self._nudge(pod_id)
        return changed
