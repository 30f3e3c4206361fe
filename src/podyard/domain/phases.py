"""The pod phase machine: which action is allowed in which phase, and where it leads.

Services check an action against the first table before they change anything and
put the pod in the phase it leads to; the reconciler reports what a pass found as an
Outcome, and the second table says which phase (and, once a pod has finished, which
desired state) that settles in. No other code picks a phase.
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
    ASSOCIATE = "associateElasticIp"
    DISASSOCIATE = "disassociateElasticIp"


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
    # An elastic IP follows the pod's interface in any phase but its deletion.
    Action.ASSOCIATE: ALL - {Phase.DELETING},
    Action.DISASSOCIATE: ALL - {Phase.DELETING},
}

# The transitional phase an action puts the pod in, and what the pod should become.
LEADS_TO: dict[Action, tuple[Phase, Desired]] = {
    Action.START: (Phase.STARTING, Desired.RUNNING),
    Action.STOP: (Phase.STOPPING, Desired.STOPPED),
    Action.DELETE: (Phase.DELETING, Desired.DELETED),
    Action.REBUILD: (Phase.REBUILDING, Desired.STOPPED),
    Action.RESIZE: (Phase.RESIZING, Desired.STOPPED),
}


class Outcome(StrEnum):
    """What a reconcile pass found."""

    CREATING = "creating"  # the runtime pod is being made (images pulled), or making it failed
    RUNNING = "running"  # a container runs, or waits to be restarted
    COMPLETED = "completed"  # every container ended for good under its restart policy
    STOPPED = "stopped"  # stopped, as asked
    VANISHED = "vanished"  # containers were removed outside podyard
    BROKEN = "broken"  # a permanent failure: retrying cannot help (e.g. the subnet is gone)


# (what the pod should be, what the pass found) -> (its phase, its new desired state or None).
# A pod whose containers all ended for good is stopped, and stays so (a later restart of
# podyard does not run it again). A pod asked to stay stopped shows stopped while it is
# (re)made, e.g. after rebuildPod.
SETTLES: dict[tuple[Desired, Outcome], tuple[Phase, Desired | None]] = {
    (Desired.RUNNING, Outcome.CREATING): (Phase.PENDING, None),
    (Desired.RUNNING, Outcome.RUNNING): (Phase.RUNNING, None),
    (Desired.RUNNING, Outcome.COMPLETED): (Phase.STOPPED, Desired.STOPPED),
    (Desired.RUNNING, Outcome.VANISHED): (Phase.ERROR, None),
    (Desired.RUNNING, Outcome.BROKEN): (Phase.ERROR, None),
    (Desired.STOPPED, Outcome.CREATING): (Phase.STOPPED, None),
    (Desired.STOPPED, Outcome.STOPPED): (Phase.STOPPED, None),
    (Desired.STOPPED, Outcome.VANISHED): (Phase.ERROR, None),
    (Desired.STOPPED, Outcome.BROKEN): (Phase.ERROR, None),
}


def settle(desired: Desired, outcome: Outcome) -> tuple[Phase, Desired | None]:
    """The phase a pass settles a pod in; a pair the table lacks is a bug in the caller."""
    try:
        return SETTLES[(desired, outcome)]
    except KeyError:
        raise ValueError(f"no phase for a pod that should be {desired} and is {outcome}") from None


def check_allowed(action: Action, phase: Phase, pod_id: str) -> None:
    if phase not in ALLOWED[action]:
        allowed = ", ".join(sorted(ALLOWED[action]))
        raise FailedPrecondition(f"{action} is not allowed while pod {pod_id} is {phase}; it needs: {allowed}")
