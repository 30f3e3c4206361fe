"""Observed status of pods and containers, in the shapes of the API docs.

The reconciler computes these from what the runtime reports; the store keeps
them; describePod renders them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

StateKind = Literal["waiting", "running", "terminated"]


def iso(t: datetime | None) -> str | None:
    """Timestamps on the wire: ISO 8601 in UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    if t is None:
        return None
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    return t.isoformat(timespec="seconds")[:19] + "Z"


def parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class ContainerState:
    kind: StateKind
    reason: str | None = None
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    exit_code: int | None = None
    signal: int | None = None

    def to_wire(self) -> dict[str, Any]:
        if self.kind == "running":
            return {"running": {"startedAt": iso(self.started_at)}}
        if self.kind == "waiting":
            return {"waiting": {"reason": self.reason, "message": self.message}}
        return {
            "terminated": {
                "signal": self.signal,
                "exitCode": self.exit_code,
                "reason": self.reason,
                "message": self.message,
                "finishedAt": iso(self.finished_at),
                "startedAt": iso(self.started_at),
            }
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any] | None) -> ContainerState | None:
        if not data:
            return None
        if "running" in data:
            return cls("running", started_at=parse_iso(data["running"].get("startedAt")))
        if "waiting" in data:
            w = data["waiting"]
            return cls("waiting", reason=w.get("reason"), message=w.get("message"))
        t = data["terminated"]
        return cls(
            "terminated",
            reason=t.get("reason"),
            message=t.get("message"),
            started_at=parse_iso(t.get("startedAt")),
            finished_at=parse_iso(t.get("finishedAt")),
            exit_code=t.get("exitCode"),
            signal=t.get("signal"),
        )


CREATING = ContainerState("waiting", reason="ContainerCreating")


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    state: ContainerState = CREATING
    last_state: ContainerState | None = None
    restart_count: int = 0
    ready: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "restartCount": self.restart_count,
            "ready": self.ready,
            "state": self.state.to_wire(),
            "lastState": self.last_state.to_wire() if self.last_state else None,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> ContainerStatus:
        return cls(
            name=data["name"],
            state=ContainerState.from_wire(data.get("state")) or CREATING,
            last_state=ContainerState.from_wire(data.get("lastState")),
            restart_count=data.get("restartCount", 0),
            ready=data.get("ready", False),
        )


@dataclass(frozen=True)
class Condition:
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str | None = None
    message: str | None = None
    last_transition: datetime | None = None
    last_probe: datetime | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "conditionType": self.type,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
            "lastTransitionTime": iso(self.last_transition),
            "lastProbeTime": iso(self.last_probe),
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> Condition:
        return cls(
            type=data["conditionType"],
            status=data["status"],
            reason=data.get("reason"),
            message=data.get("message"),
            last_transition=parse_iso(data.get("lastTransitionTime")),
            last_probe=parse_iso(data.get("lastProbeTime")),
        )


@dataclass(frozen=True)
class PodStatus:
    phase: str
    reason: str | None = None
    message: str | None = None
    start_time: datetime | None = None
    conditions: tuple[Condition, ...] = field(default_factory=tuple)
