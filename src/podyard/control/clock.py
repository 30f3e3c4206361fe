"""Time for the control loop: the event loop's clock in service, a hand-driven one in tests.

Everything in control/ that waits or compares times (back-off, restarts, probes, the
resync, ``latest`` re-checks) asks a Clock, so unit tests move time forward by hand
instead of sleeping against real timers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timer(Protocol):
    def cancel(self) -> None: ...

    def when(self) -> float: ...


class Clock(Protocol):
    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; only differences mean anything."""

    def now(self) -> datetime:
        """Wall time, UTC, to the second (what the API shows)."""

    def call_later(self, delay: float, fn: Callable[[], object]) -> Timer: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopClock:
    """The running event loop's time."""

    def monotonic(self) -> float:
        return asyncio.get_running_loop().time()

    def now(self) -> datetime:
        return datetime.now(UTC).replace(microsecond=0)

    def call_later(self, delay: float, fn: Callable[[], object]) -> Timer:
        return asyncio.get_running_loop().call_later(delay, fn)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _ManualTimer:
    def __init__(self, at: float, fn: Callable[[], object]) -> None:
        self.at = at
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True

    def when(self) -> float:
        return self.at


class ManualClock:
    """A clock that moves only when a test calls ``advance``: timers and sleepers due by
    then run in time order, each at its own time, with the event loop let through
    between them."""

    def __init__(self, start: datetime | None = None) -> None:
        self._t = 0.0
        self._wall = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._timers: list[tuple[float, int, _ManualTimer]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self._t

    def now(self) -> datetime:
        return (self._wall + timedelta(seconds=self._t)).replace(microsecond=0)

    def call_later(self, delay: float, fn: Callable[[], object]) -> Timer:
        timer = _ManualTimer(self._t + max(0.0, delay), fn)
        heapq.heappush(self._timers, (timer.at, next(self._order), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not done.done():
                done.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await done
        finally:
            timer.cancel()

    def pending(self) -> int:
        return sum(1 for _, _, t in self._timers if not t.cancelled)

    async def advance(self, seconds: float) -> None:
        until = self._t + seconds
        await settle_loop()
        while self._timers and self._timers[0][0] <= until:
            at, _, timer = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self._t = max(self._t, at)
            timer.fn()
            await settle_loop()
        self._t = until
        await settle_loop()


async def settle_loop(rounds: int = 50) -> None:
    """Let ready tasks run: a bounded number of turns of the event loop, no real time."""
    for _ in range(rounds):
        await asyncio.sleep(0)
