"""Exec and attach sessions, and their bounds.

An execId is bound to its account, pod and container, is started once, and expires
unstarted after a while; each container and each account has a cap on sessions at
once (attach sessions count too). Kept in memory: execIds do not outlive podyard.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from podyard.domain.errors import NotFound, QuotaExceeded
from podyard.domain.ids import new_id


@dataclass(frozen=True)
class StreamLimits:
    per_container: int = 8
    per_account: int = 32
    exec_id_ttl: float = 300.0  # an execId not started by then is gone
    idle_seconds: float = 900.0  # a session with no traffic either way is closed
    keep_ended: float = 3600.0  # how long an ended exec's exit code stays readable


@dataclass
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


@dataclass
class Sessions:
    """Exec and attach sessions of this podyard (in memory: execIds do not outlive it)."""

    limits: StreamLimits = field(default_factory=StreamLimits)
    clock: Callable[[], float] = time.monotonic
    by_id: dict[str, Session] = field(default_factory=dict)

    def _live(self, s: Session, now: float) -> bool:
        if s.ended_at is not None:
            return False
        return s.started or now - s.created < self.limits.exec_id_ttl

    def prune(self) -> None:
        now = self.clock()
        for sid, s in list(self.by_id.items()):
            expired = not s.started and now - s.created >= self.limits.exec_id_ttl
            if expired or (s.ended_at is not None and now - s.ended_at >= self.limits.keep_ended):
                del self.by_id[sid]

    def open(self, kind: str, account_id: str, pod_id: str, container: str, tty: bool) -> Session:
        self.prune()
        now = self.clock()
        live = [s for s in self.by_id.values() if self._live(s, now)]
        if sum(s.pod_id == pod_id and s.container == container for s in live) >= self.limits.per_container:
            raise QuotaExceeded(
                f"container {container} of pod {pod_id} has {self.limits.per_container} sessions open, the most allowed"
            )
        if sum(s.account_id == account_id for s in live) >= self.limits.per_account:
            raise QuotaExceeded(f"the account has {self.limits.per_account} sessions open, the most allowed")
        session = Session(new_id("exec", 16), kind, account_id, pod_id, container, tty, now)
        self.by_id[session.session_id] = session
        return session

    def find(self, exec_id: str, account_id: str, pod_id: str, container: str) -> Session:
        self.prune()
        s = self.by_id.get(exec_id)
        if s is None or s.kind != "exec" or (s.account_id, s.pod_id, s.container) != (account_id, pod_id, container):
            raise NotFound(f"execId: exec {exec_id} not found for container {container} of pod {pod_id} (or expired)")
        return s

    def end(self, s: Session) -> None:
        s.ended_at = self.clock()
        if s.kind == "attach":
            self.by_id.pop(s.session_id, None)
