"""The host's room for cloud disks, and the check that no new disk is promised past it.

Disks are sparse: a 1,000 GB disk takes almost nothing until written, so podyard may
promise more than the host has, up to an operator-set overcommit (``disk_overcommit``)
of what disks could really get: the free space of the data directory's filesystem plus
what podyard's disk files take there already. A disk past that is refused up front, a
clear error at create time rather than I/O errors inside pods later.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from podyard.domain.disks import GB
from podyard.domain.errors import FailedPrecondition
from podyard.services.context import ServiceContext
from podyard.store import disks

DISKS_DIR = "disks"  # under the data directory: where the disk part keeps its files


def _taken_by(root: Path) -> int:
    """Bytes the files under ``root`` really take on its filesystem, not counting those
    of filesystems mounted below it (the disk pool, the disks themselves)."""
    try:
        device = root.stat().st_dev
    except FileNotFoundError:
        return 0
    total = 0
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [d for d in subfolders if os.lstat(os.path.join(folder, d)).st_dev == device]
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            if st.st_dev == device:
                total += st.st_blocks * 512
    return total


def host_capacity(data_dir: Path) -> Callable[[], int]:
    """What disks could really get on this host (blocking: statvfs and a short walk)."""

    def measure() -> int:
        fs = os.statvfs(data_dir)
        return fs.f_bavail * fs.f_frsize + _taken_by(data_dir / DISKS_DIR)

    return measure


def _gb(n: float) -> str:
    return f"{n / GB:,.0f} GB"


def check_room(ctx: ServiceContext, s: Any, capacity: int | None, new_gb: int, field: str) -> None:
    """Refuse ``new_gb`` more when every disk's size (all accounts) would then pass
    ``disk_overcommit`` × ``capacity``. Holds the room's lock to the transaction's end, so
    concurrent creates are checked one after the other."""
    if capacity is None or new_gb <= 0:
        return
    disks.lock_space(s)
    promised = disks.promised_bytes(s)
    limit = ctx.disk_overcommit * capacity
    if promised + new_gb * GB > limit:
        raise FailedPrecondition(
            f"{field}: the host cannot take {new_gb:,} GB more of disks: {_gb(promised)} are promised already "
            f"of {_gb(limit)} ({ctx.disk_overcommit:g} × the {_gb(capacity)} the host can give disks)"
        )


def capacity_now(ctx: ServiceContext) -> int | None:
    """The host's room as measured now (before a transaction: it does I/O)."""
    return ctx.disk_capacity() if ctx.disk_capacity is not None else None
