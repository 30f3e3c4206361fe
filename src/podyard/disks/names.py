"""Where the disk part keeps what it makes. Everything is under the instance's data
directory, so two podyards on one host never touch each other's: a loop device is this
instance's when its backing file is this instance's pool image or a file in its pool, a
mount when its mount point is under this instance's directory. The pool's btrfs label
carries the instance's tag too, for a human reading ``blkid``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from podyard.disks.errors import DiskFailure

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
IMAGE = ".img"
PARTIAL = ".new"  # an image being made; renamed to its final name once whole


def checked_id(kind: str, value: str) -> str:
    """An id safe to use in a file name: letters, digits, - and _."""
    if not _ID.match(value):
        raise DiskFailure(f"{value!r} is not a valid {kind} id")
    return value


@dataclass(frozen=True)
class Layout:
    root: Path  # DATA_DIR/disks, resolved: the paths the kernel reports for loops and mounts
    tag: str  # 4 characters [0-9a-f]

    @classmethod
    def for_instance(cls, data_dir: Path, instance: str) -> Layout:
        return cls(data_dir.resolve() / "disks", hashlib.sha256(instance.encode()).hexdigest()[:4])

    @property
    def label(self) -> str:
        """The pool's btrfs label."""
        return f"podyard-{self.tag}"

    @property
    def pool_image(self) -> Path:
        """The pool's sparse image, on the host's own filesystem."""
        return self.root / "pool.img"

    @property
    def pool(self) -> Path:
        """Where the pool is mounted."""
        return self.root / "pool"

    @property
    def disks_dir(self) -> Path:
        return self.pool / "disks"

    @property
    def snapshots_dir(self) -> Path:
        return self.pool / "snapshots"

    @property
    def mnt(self) -> Path:
        """Where disks are mounted, one directory each: the runtime bind-mounts these."""
        return self.root / "mnt"

    def disk_image(self, disk_id: str) -> Path:
        return self.disks_dir / f"{checked_id('disk', disk_id)}{IMAGE}"

    def snapshot_image(self, snapshot_id: str) -> Path:
        return self.snapshots_dir / f"{checked_id('snapshot', snapshot_id)}{IMAGE}"

    def disk_mount(self, disk_id: str) -> Path:
        return self.mnt / checked_id("disk", disk_id)

    def in_pool(self, path: str) -> bool:
        return path.startswith(f"{self.pool}/")

    def disk_of_image(self, path: str) -> str | None:
        """The disk whose image ``path`` is (a backing file as the kernel reports it)."""
        p = Path(path)
        if p.parent != self.disks_dir or p.suffix != IMAGE:
            return None
        return p.stem if _ID.match(p.stem) else None

    def disk_of_mount(self, target: str) -> str | None:
        p = Path(target)
        return p.name if p.parent == self.mnt and _ID.match(p.name) else None

    def owns(self, target: str) -> bool:
        """A mount point of this instance (a disk's, the pool's, or a stray one below)."""
        return target == str(self.root) or target.startswith(f"{self.root}/")
