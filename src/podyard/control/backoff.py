"""Exponential back-off of retries: restarting crashed containers, pulling images, creating pods."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """``initial * 2**n`` seconds before the n-th retry of a streak, at most ``cap``.

    Times are monotonic seconds. ``failed`` with the id of a failure already seen
    returns the time already given, so observing one crash twice does not lengthen
    the wait; ``succeeded`` ends the streak.
    """

    initial: float
    cap: float
    _streak: dict[Hashable, int] = field(default_factory=dict)
    _due: dict[Hashable, tuple[Hashable, float]] = field(default_factory=dict)

    def failed(self, key: Hashable, now: float, failure: Hashable = None) -> float:
        known = self._due.get(key)
        if known is not None and failure is not None and known[0] == failure:
            return known[1]
        n = self._streak.get(key, 0)
        at = now + min(self.initial * 2**n, self.cap)
        self._streak[key] = n + 1
        self._due[key] = (failure, at)
        return at

    def waiting(self, key: Hashable, now: float) -> float | None:
        """Seconds until the next retry may run, or None if it may run now."""
        known = self._due.get(key)
        if known is None or known[1] <= now:
            return None
        return known[1] - now

    def retried(self, key: Hashable) -> None:
        """The scheduled retry ran; the streak goes on until ``succeeded``."""
        self._due.pop(key, None)

    def succeeded(self, key: Hashable) -> None:
        self._streak.pop(key, None)
        self._due.pop(key, None)

    def forget(self, prefix: str) -> None:
        """Drop the keys of one subject: ``prefix`` or tuples starting with it."""
        for d in (self._streak, self._due):
            for k in [k for k in d if k == prefix or (isinstance(k, tuple) and k and k[0] == prefix)]:
                d.pop(k, None)
