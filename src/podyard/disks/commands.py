"""Running losetup, mkfs, mount, cp and friends for the disk part: a failure becomes a
DiskFailure, and running out of space on the way becomes PoolFull, never a bare I/O error."""

from __future__ import annotations

import errno

from podyard import hostcmd
from podyard.disks.errors import POOL_FULL, DiskFailure, PoolFull

_NO_SPACE = ("No space left on device", "ENOSPC")


async def run(*argv: str, check: bool = True, doing: str | None = None) -> str:
    """Run a command; its stdout. ``doing`` names the step in the failure's message
    ("making disk d-1"); without it the message names the command."""
    try:
        return await hostcmd.run(*argv, check=check)
    except hostcmd.CommandFailure as e:
        if any(s in e.stderr for s in _NO_SPACE):
            raise PoolFull(f"{POOL_FULL}: {doing or argv[0]} failed for want of space") from e
        raise DiskFailure(f"{doing}: {e.message}" if doing else e.message) from e


def os_failure(e: OSError, doing: str) -> DiskFailure:
    """A failed file operation of the pool as a DiskFailure (PoolFull for ENOSPC)."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return PoolFull(f"{POOL_FULL}: {doing} failed for want of space")
    return DiskFailure(f"{doing}: {e.strerror or e}")
