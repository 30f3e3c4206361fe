"""How much the host can hold, and whether a new disk may be promised.

Disks are sparse: a 1,000 GB disk takes almost nothing until written. So podyard may
promise more than the host has, up to an operator-set overcommit of what disks could
really get: the host's free space plus what the pool already takes there, and never more
than the pool itself holds. A new disk past that is refused up front (NoRoom), so a full
host shows as a clear error at create time, not as I/O errors inside pods later."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from podyard.disks.errors import NoRoom

GB = 1024**3


@dataclass(frozen=True)
class Usage:
    pool_size: int  # what the pool's filesystem holds, in bytes
    pool_used: int  # what its files use (reflinked extents once)
    pool_on_host: int  # what the pool's sparse image really takes on the host
    host_free: int  # free bytes on the host's filesystem under the data directory

    @property
    def capacity(self) -> int:
        """What disks could really be given: the host's free space plus the pool's own."""
        return min(self.host_free + self.pool_on_host, self.pool_size)


def measure(pool_image: Path, pool: Path) -> Usage:
    """Blocking (statvfs); the pool must be mounted."""
    fs = os.statvfs(pool)
    host = os.statvfs(pool_image.parent)
    return Usage(
        pool_size=fs.f_blocks * fs.f_frsize,
        pool_used=(fs.f_blocks - fs.f_bfree) * fs.f_frsize,
        pool_on_host=os.stat(pool_image).st_blocks * 512,
        host_free=host.f_bavail * host.f_frsize,
    )


def _gb(n: float) -> str:
    return f"{n / GB:,.0f} GB" if n >= GB else f"{n / 1024**2:,.0f} MB"


def check_room(usage: Usage, new_bytes: int, promised_bytes: int, overcommit: float) -> None:
    """Refuse ``new_bytes`` more when ``promised_bytes`` (every disk's size, and what the
    caller counts for snapshots) would then pass ``overcommit`` × the capacity."""
    limit = overcommit * usage.capacity
    if promised_bytes + new_bytes > limit:
        raise NoRoom(
            f"the host cannot take a disk of {_gb(new_bytes)}: {_gb(promised_bytes)} are already promised "
            f"of {_gb(limit)} ({overcommit:g} × the {_gb(usage.capacity)} the host's disk pool can hold)"
        )
