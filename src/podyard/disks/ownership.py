"""Who owns a disk's files: the user-namespace range of the pod it is attached to.

A pod's root is a host id (the start of its range). A disk's filesystem records the range
it was last given in a trusted xattr on its root directory (only the host's root can set
one; a pod cannot forge it). Giving the disk to another range shifts every owner in the
old range by the distance between the ranges, so ids keep their meaning inside the pod
(root stays root, uid 1000 stays uid 1000). An owner outside the old range (a fresh
filesystem's root-owned lost+found, a file the host wrote) becomes the new range's root.

A move marks the filesystem "moving old → new" before it walks and "new" after: a crash
in the middle walks again, and files already moved (their owners in the new range) stay.
A fresh filesystem counts as owned by the range starting at 0, the ids a pod sees.
Not shifted: owners inside POSIX ACL entries (only file owners are)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

XATTR = "trusted.podyard.owner"


@dataclass(frozen=True)
class Owner:
    """A pod's user-namespace range on the host: its root's uid and gid, and its length."""

    uid: int
    gid: int
    size: int = 65536

    def encode(self) -> str:
        return f"{self.uid}:{self.gid}:{self.size}"

    @classmethod
    def decode(cls, value: str) -> Owner:
        uid, gid, size = (int(x) for x in value.split(":"))
        return cls(uid, gid, size)


FRESH = Owner(0, 0, 65536)


def recorded(root: Path) -> tuple[Owner, Owner | None]:
    """The range the filesystem is owned by, and the range it is moving to if a move was
    cut short."""
    try:
        value = os.getxattr(root, XATTR).decode()
    except OSError:
        return FRESH, None
    old, _, new = value.partition(">")
    return Owner.decode(old), Owner.decode(new) if new else None


def _shift(value: int, old_base: int, new_base: int, old_size: int, new_size: int) -> int:
    if new_base <= value < new_base + new_size:
        return value  # already moved (a resumed move), or the same range
    offset = value - old_base
    return new_base + offset if 0 <= offset < min(old_size, new_size) else new_base


def _move(root: Path, old: Owner, new: Owner) -> int:
    """Walk the filesystem, shifting owners from ``old`` to ``new``; the number changed."""
    changed = 0
    dev = os.lstat(root).st_dev
    pending = [str(root)]
    while pending:
        path = pending.pop()
        st = os.lstat(path)
        if st.st_dev != dev:
            continue  # another filesystem mounted inside: not this disk's
        uid = _shift(st.st_uid, old.uid, new.uid, old.size, new.size)
        gid = _shift(st.st_gid, old.gid, new.gid, old.size, new.size)
        if (uid, gid) != (st.st_uid, st.st_gid):
            os.lchown(path, uid, gid)
            # chown clears set-user-id and set-group-id: keep them, they belong to the file.
            if stat.S_ISREG(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                os.chmod(path, stat.S_IMODE(st.st_mode))
            changed += 1
        if stat.S_ISDIR(st.st_mode):
            with os.scandir(path) as entries:
                pending.extend(e.path for e in entries)
    return changed


def give(root: Path, new: Owner) -> int:
    """Make the filesystem mounted at ``root`` owned by ``new``; the number of files whose
    owner changed. Blocking: run it in a thread."""
    old, moving = recorded(root)
    if moving is not None and moving != new:
        _move(root, old, moving)  # finish the move a crash cut short, then this one
        os.setxattr(root, XATTR, moving.encode().encode())
        old = moving
    if old == new and moving is None:
        return 0
    os.setxattr(root, XATTR, f"{old.encode()}>{new.encode()}".encode())
    changed = _move(root, old, new)
    os.setxattr(root, XATTR, new.encode().encode())
    return changed
