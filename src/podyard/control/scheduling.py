"""Scheduling of work per pod: one worker per pod, woken by nudges, as kopf does.

Passes over one pod run one at a time, in order; different pods run in parallel. A
nudge with a delay plans a pass (the earliest planned one wins). A pass that fails
temporarily is tried again with exponential back-off, and the streak ends with the
first pass that succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable

from podyard.control.backoff import Backoff
from podyard.control.clock import Clock, Timer
from podyard.runtime.protocol import RuntimeFailure

log = logging.getLogger(__name__)

PodPass = Callable[[str], Awaitable[bool]]  # one pass over a pod; False once it is gone for good


class PodScheduler:
    def __init__(self, run_pass: PodPass, clock: Clock, retries: Backoff) -> None:
        self._run_pass = run_pass
        self._clock = clock
        self._retries = retries
        self._wake: dict[str, asyncio.Event] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._timers: dict[str, Timer] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._active = 0

    def bind(self) -> None:
        """Serve nudges from this event loop (and, through it, from other threads)."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        workers = list(self._workers.values())
        for t in workers:
            t.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    def nudge(self, pod_id: str, delay: float = 0.0) -> None:
        """Ask for a pass over the pod, now or in ``delay`` seconds (thread-safe)."""
        if self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._nudge(pod_id, delay)
        else:
            self._loop.call_soon_threadsafe(self._nudge, pod_id, delay)

    def idle(self) -> bool:
        """No pass running or asked for (planned ones aside)."""
        return self._active == 0 and not any(e.is_set() for e in self._wake.values())

    def planned(self, pod_id: str) -> float | None:
        """When the next planned pass over the pod is due (clock time), if one is."""
        timer = self._timers.get(pod_id)
        return timer.when() if timer is not None else None

    def forget(self, pod_id: str) -> None:
        self._retries.forget(pod_id)
        timer = self._timers.pop(pod_id, None)
        if timer is not None:
            timer.cancel()

    def _nudge(self, pod_id: str, delay: float) -> None:
        if delay > 0:
            timer = self._timers.get(pod_id)
            if timer is not None and timer.when() <= self._clock.monotonic() + delay:
                return  # an earlier pass is already planned
            if timer is not None:
                timer.cancel()
            self._timers[pod_id] = self._clock.call_later(delay, lambda: self._nudge(pod_id, 0.0))
            return
        self._timers.pop(pod_id, None)
        wake = self._wake.setdefault(pod_id, asyncio.Event())
        wake.set()
        if pod_id not in self._workers:
            self._workers[pod_id] = asyncio.create_task(self._worker(pod_id, wake), name=f"pod-{pod_id}")

    async def _worker(self, pod_id: str, wake: asyncio.Event) -> None:
        key = (pod_id, "pass")
        try:
            while True:
                await wake.wait()
                wake.clear()
                self._active += 1
                try:
                    alive = await self._run_pass(pod_id)
                    self._retries.succeeded(key)
                except Exception as e:
                    if isinstance(e, RuntimeFailure):
                        log.warning("pod %s: %s; retrying", pod_id, e.message)
                    else:
                        log.exception("pod %s: reconcile failed; retrying", pod_id)
                    alive = True
                    now = self._clock.monotonic()
                    self.nudge(pod_id, self._retries.failed(key, now) - now)
                finally:
                    self._active -= 1
                if not alive and not wake.is_set():
                    return
        finally:
            self._workers.pop(pod_id, None)
            self._wake.pop(pod_id, None)
