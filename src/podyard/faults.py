"""Crash injection for the crash tests: with PODYARD_FAULT=STEP in its environment,
podyard kills itself with SIGKILL on reaching that named step (off when unset).

Each step sits between two effects that a crash may separate (a commit and its
nudge, a runtime change and its status write, one network change and the next); a
restarted podyard must bring every pod to what its user asked, leaving nothing behind.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

STEPS = (
    # services: the intent is committed, the reconciler not yet told
    "createPods.committed",
    "stopPod.committed",
    "startPod.committed",
    "rebuildPod.committed",
    "deletePod.committed",
    # control: making a pod (a generation) in the runtime
    "create.old_removed",  # an older generation removed, the new one not made yet
    "create.made",  # the pod made in the runtime, its generation not yet recorded
    "create.recorded",  # recorded, nothing started
    # control: starting, stopping, deleting
    "start.plugged",  # the pod's interface attached, its containers not started
    "start.started",  # started, the status not yet written
    "stop.stopped",  # the containers stopped, the interface still attached
    "delete.removed",  # the runtime pod removed, the interface and the record still there
    "delete.unplugged",  # the interface gone, the record not yet forgotten
    # network
    "network.port_made",  # the pod's veth pair made, its eth0 not yet addressed
    "network.rules_loaded",  # a VPC's rule set loaded, its routes and shaping not yet
    # disks
    "disks.made",  # a disk's image made in the pool, not yet recorded as made
    "disks.looped",  # a disk's loop device attached, not yet mounted
    "disks.mounted",  # a pod's disk mounted and owned, its containers not started
)

_ARMED = os.environ.get("PODYARD_FAULT") or None
if _ARMED is not None and _ARMED not in STEPS:
    raise ValueError(f"PODYARD_FAULT={_ARMED!r} is not a step; the steps are {', '.join(STEPS)}")


def point(step: str) -> None:
    """A named step: podyard dies here if PODYARD_FAULT names it."""
    if step == _ARMED:
        log.warning("PODYARD_FAULT: killing podyard at %s", step)
        os.kill(os.getpid(), signal.SIGKILL)
