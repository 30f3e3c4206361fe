"""Exec and attach sessions, and their bounds.

An execId is bound to its account, pod and container, is started once, and expires
unstarted after a while; each container and each account has a cap on sessions at
once (attach sessions count too). An ended exec is kept a while for its exit code,
at most ``ended_per_account`` of an account and ``ended_total`` in all, the oldest
dropped first. Kept in memory: execIds do not outlive podyard.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

from podyard.domain.errors import NotFound, QuotaExceeded
from podyard.domain.ids import new_id


@dataclass(frozen=True)
class StreamLimits:
    per_container: int = 8
    per_account: int = 32
    exec_id_ttl: float = 300.0  # an execId not started by then is gone
    idle_seconds: float = 900.0  # a session with no traffic either way is closed
    keep_ended: float = 3600.0  # how long an ended exec's exit code stays readable, at most
    # Ended execs kept for their exit code (~530 bytes each, measured with tracemalloc):
    # an account's flood drops its own oldest, never another account's.
    ended_per_account: int = 256
    ended_total: int = 10_000


@dataclass(slots=True)
class Session:
    session_id: str
    kind: str  # "exec" or "attach"
    account_id: str
    pod_id: str
    container: str
    tty: bool
    created: float
    runtime_id: str = ""
    started: bool = False
    ended_at: float | None = None
    exit_code: int | None = None  # an ended exec's, read when its stream ended


K = TypeVar("K", bound=Hashable)


def _decrement(counter: Counter[K], key: K) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


@dataclass
class Sessions:
    """Exec and attach sessions of this podyard (in memory: execIds do not outlive it).

    Every bookkeeping step is O(1) or O(what expired): open sessions are counted per
    account and container, unstarted ones are queued by creation time, ended execs by
    end time."""

    limits: StreamLimits = field(default_factory=StreamLimits)
    clock: Callable[[], float] = time.monotonic
    by_id: dict[str, Session] = field(default_factory=dict)  # open sessions and kept ended execs
    _open: dict[str, Session] = field(default_factory=dict, repr=False)
    _unstarted: OrderedDict[str, Session] = field(default_factory=OrderedDict, repr=False)
    _ended: OrderedDict[str, Session] = field(default_factory=OrderedDict, repr=False)
    _ended_of: dict[str, OrderedDict[str, None]] = field(default_factory=dict, repr=False)
    _per_account: Counter[str] = field(default_factory=Counter, repr=False)
    _per_container: Counter[tuple[str, str]] = field(default_factory=Counter, repr=False)

    def _close(self, s: Session) -> bool:
        """No longer open (ended or expired); False if it was not open."""
        if self._open.pop(s.session_id, None) is None:
            return False
        self._unstarted.pop(s.session_id, None)
        _decrement(self._per_account, s.account_id)
        _decrement(self._per_container, (s.pod_id, s.container))
        return True

    def _drop_ended(self, session_id: str) -> None:
        s = self._ended.pop(session_id)
        del self.by_id[session_id]
        mine = self._ended_of[s.account_id]
        del mine[session_id]
        if not mine:
            del self._ended_of[s.account_id]

    def prune(self) -> None:
        now = self.clock()
        while self._unstarted:
            s = next(iter(self._unstarted.values()))
            if now - s.created < self.limits.exec_id_ttl:
                break
            self._close(s)
            del self.by_id[s.session_id]
        while self._ended:
            s = next(iter(self._ended.values()))
            if s.ended_at is not None and now - s.ended_at < self.limits.keep_ended:
                break
            self._drop_ended(s.session_id)

    def open(self, kind: str, account_id: str, pod_id: str, container: str, tty: bool) -> Session:
        self.prune()
        now = self.clock()
        if self._per_container[(pod_id, container)] >= self.limits.per_container:
            raise QuotaExceeded(
                f"container {container} of pod {pod_id} has {self.limits.per_container} sessions open, the most allowed"
            )
        if self._per_account[account_id] >= self.limits.per_account:
            raise QuotaExceeded(f"the account has {self.limits.per_account} sessions open, the most allowed")
        session = Session(new_id("exec", 16), kind, account_id, pod_id, container, tty, now)
        self.by_id[session.session_id] = self._open[session.session_id] = session
        self._unstarted[session.session_id] = session
        self._per_account[account_id] += 1
        self._per_container[(pod_id, container)] += 1
        return session

    def find(self, exec_id: str, account_id: str, pod_id: str, container: str) -> Session:
        self.prune()
        s = self.by_id.get(exec_id)
        if s is None or s.kind != "exec" or (s.account_id, s.pod_id, s.container) != (account_id, pod_id, container):
            raise NotFound(f"execId: exec {exec_id} not found for container {container} of pod {pod_id} (or expired)")
        return s

    def start(self, s: Session) -> None:
        """Started: it no longer expires; it stays open until it ends."""
        if s.session_id not in self._open:
            raise NotFound(f"execId: exec {s.session_id} expired before it started")
        s.started = True
        self._unstarted.pop(s.session_id, None)

    def end(self, s: Session) -> None:
        if s.ended_at is not None:
            return
        s.ended_at = self.clock()
        if not self._close(s):
            return  # expired before it ended: forgotten already
        if s.kind != "exec" or not s.started:
            del self.by_id[s.session_id]  # no exit code anyone could ask for
            return
        self._ended[s.session_id] = s
        mine = self._ended_of.setdefault(s.account_id, OrderedDict())
        mine[s.session_id] = None
        if len(mine) > self.limits.ended_per_account:
            self._drop_ended(next(iter(mine)))
        while len(self._ended) > self.limits.ended_total:
            self._drop_ended(next(iter(self._ended)))

    def streaming(self) -> int:
        """Sessions whose stream is open now (started, not ended)."""
        return len(self._open) - len(self._unstarted)

    def sizes(self) -> dict[str, int]:
        """How much is kept: for tests and metrics."""
        return {"sessions": len(self.by_id), "open": len(self._open), "ended": len(self._ended)}
