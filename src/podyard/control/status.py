"""Pure rules that turn what the runtime reports into the API's status words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from podyard.domain.phases import Phase
from podyard.domain.status import Condition, ContainerState, ContainerStatus
from podyard.runtime.protocol import ContainerObservation

MISSING = ContainerState("terminated", reason="ContainerMissing", message="the container was removed outside podyard")
START_ERROR = "StartError"


def _seconds(t: datetime | None) -> datetime | None:
    """Times as the API keeps them (to the second), so an unchanged state compares equal."""
    return t.replace(microsecond=0) if t is not None else None


def state_of(obs: ContainerObservation | None, previous: ContainerState) -> ContainerState | None:
    """The container's state as observed, or None when it was created and never ran."""
    if obs is None:
        return MISSING
    if obs.state == "running":
        return ContainerState("running", started_at=_seconds(obs.started_at))
    if obs.state == "exited":
        code = obs.exit_code if obs.exit_code is not None else 0
        reason = "OOMKilled" if obs.oom_killed else ("Completed" if code == 0 else "Error")
        return ContainerState(
            "terminated",
            reason=reason,
            started_at=_seconds(obs.started_at),
            finished_at=_seconds(obs.finished_at),
            exit_code=code,
            signal=code - 128 if code > 128 else None,
        )
    if obs.state == "created":
        # A process that could not be started leaves its container "created": keep the failure.
        if previous.kind == "terminated" and previous.reason == START_ERROR:
            return previous
        return None
    return ContainerState("waiting", reason="Unknown", message=f"the runtime reports the container {obs.state}")


def start_error(message: str, now: datetime) -> ContainerState:
    return ContainerState(
        "terminated", reason=START_ERROR, message=message, exit_code=128, started_at=now, finished_at=now
    )


def should_restart(policy: str, state: ContainerState) -> bool:
    if state.kind != "terminated" or state.reason == MISSING.reason:
        return False
    if policy == "Always":
        return True
    if policy == "OnFailure":
        return (state.exit_code or 0) != 0
    return False


def completion(statuses: Sequence[ContainerStatus]) -> tuple[str, str]:
    """Reason and message of a pod whose containers have all ended for good."""
    failed = [s for s in statuses if (s.state.exit_code or 0) != 0 or s.state.reason == MISSING.reason]
    if not failed:
        return "Succeeded", "all containers exited with code 0"
    return "Failed", "; ".join(
        f"container {s.name} {s.state.reason}"
        + (f" (exit code {s.state.exit_code})" if s.state.exit_code is not None else "")
        for s in failed
    )


def ready_condition(
    phase: str, statuses: Sequence[ContainerStatus], previous: Sequence[Condition], now: datetime
) -> Condition:
    not_ready = [s.name for s in statuses if not s.ready]
    status: Literal["True", "False"]
    if phase == Phase.RUNNING and not not_ready:
        status, reason, message = "True", None, None
    elif phase in (Phase.RUNNING, Phase.PENDING, Phase.STARTING):
        status, reason = "False", "ContainersNotReady"
        message = "containers not ready: " + ", ".join(not_ready)
    else:
        status, reason, message = "False", f"Pod{phase.capitalize()}", f"the pod is {phase}"
    before = next((c for c in previous if c.type == "Ready"), None)
    since = before.last_transition if before and before.status == status and before.last_transition else now
    return Condition(type="Ready", status=status, reason=reason, message=message, last_transition=since)
