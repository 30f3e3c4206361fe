"""Signalling a container's processes from the host, never a bare host PID.

A PID found by a scan of /proc may be reused by an unrelated host process before it is
signalled. So each process is pinned with a pidfd first, checked to be in the
container's cgroup, checked to be still alive after that check (so the check read the
pinned process, not a successor with the same PID), and signalled through its pidfd.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _cgroup(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None


def _alive(pidfd: int) -> bool:
    try:
        signal.pidfd_send_signal(pidfd, 0)
    except ProcessLookupError:
        return False
    return True


def cgroup_of(pid: int) -> str | None:
    """The cgroup of the process ``pid`` is now, or None if it is gone."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    try:
        found = _cgroup(pid)
        return found if _alive(fd) else None
    finally:
        os.close(fd)


def descendants(pid: int) -> list[int]:
    """pid and every process below it, as /proc shows them now (candidates only)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def kill_tree(root: int, cgroup: str, sig: int = signal.SIGKILL) -> int:
    """Signal ``root`` and its descendants that are in ``cgroup`` (the text of
    /proc/PID/cgroup of the container's own process); returns how many were signalled."""
    signalled = 0
    for pid in reversed(descendants(root)):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            if _cgroup(pid) == cgroup and _alive(fd):
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(fd, sig)
                    signalled += 1
        finally:
            os.close(fd)
    return signalled
