"""What goes wrong with disks, in words a user can read."""

from __future__ import annotations


class DiskFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PoolFull(DiskFailure):
    """The host has no room left for disk data: a write to the pool failed with ENOSPC."""


class NoRoom(DiskFailure):
    """A new disk would promise more space than the operator allows the host to promise."""


POOL_FULL = "the host's disk pool is full"
