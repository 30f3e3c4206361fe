"""Probes: liveness and readiness checks of running containers, on the clock.

Each run of a container with probes gets a watch: a task per probe that waits the
initial delay, then checks every period (the runtime runs the check inside the pod),
and counts results against the thresholds. Only verdict changes reach the rest of
podyard: a readiness flip asks for a pass (which writes ``ready`` and the Ready
condition); a liveness failure stops the container and asks for a pass, where the
restart policy takes it from there and the ended run shows LivenessProbeFailed. A
probe that keeps giving the same answer writes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from podyard.control.clock import Clock
from podyard.domain.probes import Probe, ProbeKind, ProbeResult, Verdict
from podyard.runtime.protocol import Runtime, RuntimeFailure

log = logging.getLogger(__name__)

SPEC_FIELDS: dict[ProbeKind, str] = {"liveness": "livenessProbe", "readiness": "readinessProbe"}


@dataclass
class _Watch:
    run: int  # which run of the container (its restart count) this watch is for
    ready: bool  # the readiness verdict; True when there is no readiness probe
    killed: str | None = None  # why the liveness probe ended this run
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def cancel(self) -> None:
        for t in self.tasks:
            t.cancel()


@dataclass(frozen=True)
class Target:
    """What a probe needs to know of the container it checks."""

    pod_id: str
    container: str
    pod_ip: str
    grace_seconds: int


class Prober:
    def __init__(self, runtime: Runtime, clock: Clock, on_change: Callable[[str], None]) -> None:
        self._runtime = runtime
        self._clock = clock
        self._on_change = on_change
        self._watches: dict[tuple[str, str], _Watch] = {}

    @staticmethod
    def probes_of(spec: dict[str, Any]) -> dict[ProbeKind, Probe]:
        return {kind: Probe.from_spec(spec[name]) for kind, name in SPEC_FIELDS.items() if spec.get(name)}

    def watch(self, target: Target, probes: dict[ProbeKind, Probe], run: int | None) -> None:
        """Probe this run of the container (``run`` None: it is not running, so its
        probes stop; what they found about the run that ended is kept)."""
        key = (target.pod_id, target.container)
        current = self._watches.get(key)
        if run is None:
            if current is not None:
                current.cancel()
            return
        if current is not None and current.run == run:
            return
        if current is not None:
            current.cancel()
        if not probes:
            self._watches.pop(key, None)
            return
        w = _Watch(run=run, ready="readiness" not in probes)
        w.tasks = [
            asyncio.create_task(self._probe(target, w, kind, probe), name=f"probe-{kind}-{target.pod_id}")
            for kind, probe in probes.items()
        ]
        self._watches[key] = w

    def ready(self, pod_id: str, container: str) -> bool:
        w = self._watches.get((pod_id, container))
        return w is None or w.ready

    def killed(self, pod_id: str, container: str, run: int) -> str | None:
        """Why the liveness probe ended this run of the container, if it did."""
        w = self._watches.get((pod_id, container))
        return w.killed if w is not None and w.run == run else None

    def forget(self, pod_id: str) -> None:
        for key in [k for k in self._watches if k[0] == pod_id]:
            self._watches.pop(key).cancel()

    async def stop(self) -> None:
        tasks = [t for w in self._watches.values() for t in w.tasks]
        for w in self._watches.values():
            w.cancel()
        self._watches.clear()
        await asyncio.gather(*tasks, return_exceptions=True)

    def watched(self) -> int:
        return sum(1 for w in self._watches.values() for t in w.tasks if not t.done())

    async def _probe(self, target: Target, w: _Watch, kind: ProbeKind, probe: Probe) -> None:
        verdict = Verdict(passing=kind == "liveness")
        await self._clock.sleep(probe.initial_delay_seconds)
        due = self._clock.monotonic()
        while True:
            try:
                result = await self._runtime.probe(target.pod_id, target.container, probe.check, target.pod_ip)
            except RuntimeFailure as e:  # the runtime, not the pod, failed: no verdict either way
                log.warning("pod %s container %s: %s probe not run: %s", target.pod_id, target.container, kind,
                            e.message)  # fmt: skip
            else:
                if verdict.record(result.ok, probe) and not await self._flipped(
                    target, w, kind, probe, verdict, result
                ):
                    return
            due = _next_beat(due, probe.period_seconds, self._clock.monotonic())
            await self._clock.sleep(due - self._clock.monotonic())

    async def _flipped(
        self, target: Target, w: _Watch, kind: ProbeKind, probe: Probe, verdict: Verdict, result: ProbeResult
    ) -> bool:
        """Act on a verdict that flipped; False when the probe is done (a liveness failure)."""
        if kind == "readiness":
            w.ready = verdict.passing
            log.info("pod %s container %s: ready=%s (%s)", target.pod_id, target.container,
                     w.ready, result.message or "probe passed")  # fmt: skip
            self._on_change(target.pod_id)
            return True
        w.killed = f"the liveness probe failed {probe.failure_threshold} times in a row: {result.message}"
        w.ready = False
        log.info("pod %s container %s: %s; restarting it", target.pod_id, target.container, w.killed)
        with contextlib.suppress(RuntimeFailure):
            await self._runtime.stop_container(target.pod_id, target.container, target.grace_seconds)
        self._on_change(target.pod_id)
        return False


def _next_beat(last: float, period: float, now: float) -> float:
    """The first beat after ``now`` on a fixed beat from ``last``: a slow check does not
    push the next one back, and beats it overran are skipped, not made up in a burst."""
    missed = max(0, math.floor((now - last) / period))
    return last + (missed + 1) * period
