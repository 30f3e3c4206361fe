"""The pod phase machine: which action is allowed in which phase, and where it leads.

Services check an action against this table before they change anything; the
reconciler settles transitional phases once the runtime has done the work.
"""

from __future__ import annotations

from enum import StrEnum

from podyard.domain.errors import FailedPrecondition


class Phase(StrEnum):
    PENDING = "pending"  # accepted; containers being created (images pulled)
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"  # stopped by the user, or every container ended for good
    REBUILDING = "rebuilding"
    RESIZING = "resizing"
    DELETING = "deleting"
    ERROR = "error"


class Desired(StrEnum):
    """What the user asked the pod to be; the reconciler drives the runtime towards it."""

    RUNNING = "running"
    STOPPED = "stopped"
    DELETED = "deleted"


class Action(StrEnum):
    START = "startPod"
    STOP = "stopPod"
    DELETE = "deletePod"
    REBUILD = "rebuildPod"
    RESIZE = "resizePod"
    MODIFY = "modifyPodAttribute"


ALL = frozenset(Phase)

# The docs: delete only when stopped, running or error; start only when stopped;
# rebuild and resize on a stopped pod, which stays stopped. Stop also applies to a
# pending pod, so one whose image cannot be pulled is not stuck forever.
ALLOWED: dict[Action, frozenset[Phase]] = {
    Action.START: frozenset({Phase.STOPPED}),
    Action.STOP: frozenset({Phase.RUNNING, Phase.PENDING}),
    Action.DELETE: frozenset({Phase.STOPPED, Phase.RUNNING, Phase.ERROR}),
    Action.REBUILD: frozenset({Phase.STOPPED}),
    Action.RESIZE: frozenset({Phase.STOPPED}),
    Action.MODIFY: ALL - {Phase.DELETING},
}

# The transitional phase an action puts the pod in, and what the pod should become.
LEADS_TO: dict[Action, tuple[Phase, Desired]] = {
    Action.START: (Phase.STARTING, Desired.RUNNING),
    Action.STOP: (Phase.STOPPING, Desired.STOPPED),
    Action.DELETE: (Phase.DELETING, Desired.DELETED),
    Action.REBUILD: (Phase.REBUILDING, Desired.STOPPED),
    Action.RESIZE: (Phase.RESIZING, Desired.STOPPED),
}

TRANSITIONAL = frozenset({Phase.STARTING, Phase.STOPPING, Phase.REBUILDING, Phase.RESIZING, Phase.DELETING})


def check_allowed(action: Action, phase: Phase, pod_id: str) -> None:
    if phase not in ALLOWED[action]:
        allowed = ", ".join(sorted(ALLOWED[action]))
        raise FailedPrecondition(f"{action} is not allowed while pod {pod_id} is {phase}; it needs: {allowed}")
