"""A container's writable layer moved onto a disk of its own, so that it holds its size
(a cloud system disk): this host's filesystem has no project quotas, and Podman cannot
size an overlay layer without them.

Podman keeps a container's layer in a directory L: L/diff (overlay's upper dir) and
L/work (its work dir), beside files of its own. Mounting a disk over L does not work
(Podman re-binds its storage), but overlay follows symlinks when it is mounted: before the
container first starts, diff and work are copied onto the disk (owners, modes, xattrs
such as overlay's opaque marks, hard links and whiteouts kept: ``cp -a``) and replaced by
symlinks to the copies. The disk's mount point never changes, so the symlinks stay valid
across reboots; the disk only has to be mounted again before the container starts.

Each of diff and work moves in steps, every one of which leaves a state the next call
reads back and finishes (a kill -9 anywhere converges):

1. copy NAME to MOUNT/NAME.new, then rename it MOUNT/NAME (a whole copy, or none);
2. rename L/NAME to L/NAME.moving (the original, kept until the symlink is there);
3. symlink L/NAME to MOUNT/NAME;
4. remove L/NAME.moving.

So: L/NAME a symlink to the copy, done (a NAME.moving left is removed); L/NAME missing,
the original is NAME.moving (copied again if step 1 had not finished); a NAME.new on the
disk is a copy cut short, made again."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from podyard.disks.commands import os_failure, run
from podyard.disks.errors import DiskFailure, PoolFull

NAMES = ("diff", "work")  # what overlay writes to: both must be on the one filesystem
MOVING = ".moving"  # the original, renamed away until its symlink is there
COPYING = ".new"  # a copy onto the disk being made; renamed once whole


async def move_into(layer_dir: Path, target: Path, disk_id: str) -> bool:
    """Make ``layer_dir``'s diff and work symlinks to copies of them on the filesystem
    mounted at ``target``; whether anything moved (done already: nothing but checks)."""
    if not layer_dir.is_dir():
        raise DiskFailure(f"the layer directory {layer_dir} of disk {disk_id} does not exist")
    moved = False
    for name in NAMES:
        moved |= await _move(layer_dir, name, target, disk_id)
    return moved


def is_held(layer_dir: Path, target: Path) -> bool:
    """Whether ``layer_dir``'s diff and work are symlinks to the disk mounted at ``target``
    (mounted or not)."""
    return all(_points_to(layer_dir / name, target / name) for name in NAMES)


async def _move(layer_dir: Path, name: str, target: Path, disk_id: str) -> bool:
    link, moving = layer_dir / name, layer_dir / f"{name}{MOVING}"
    copy, partial = target / name, target / f"{name}{COPYING}"
    doing = f"moving the layer's {name} onto disk {disk_id}"
    if _points_to(link, copy):
        if copy.is_dir():
            await _remove(moving, doing)  # step 4 left undone
            return False
        if not moving.is_dir():
            raise DiskFailure(f"{doing}: {copy} is gone (was the disk deleted under its container?)")
        _unlink(link, doing)  # a copy lost with its disk, the original still there: again
    if link.is_symlink() or (link.exists() and not link.is_dir()):
        raise DiskFailure(f"{doing}: {link} is not a directory podyard can move")
    source = link if link.exists() else moving
    if not source.is_dir():
        raise DiskFailure(f"{doing}: {layer_dir} has no {name}")
    if not copy.is_dir():
        await _remove(partial, doing)  # a copy cut short
        try:
            await run("cp", "-a", "--", str(source), str(partial), doing=doing)
        except PoolFull as e:  # ENOSPC on the disk itself, not in the pool
            await _remove(partial, doing)
            raise DiskFailure(f"{doing}: the layer does not fit on the disk") from e
        # The copy reaches the disk before the original goes (a power cut keeps one of them).
        await run("sync", "-f", str(partial), doing=doing)
        _rename(partial, copy, doing)
    if source == link:
        _rename(link, moving, doing)
    try:
        os.symlink(copy, link)
    except OSError as e:
        raise os_failure(e, doing) from e
    await _remove(moving, doing)
    return True


def _points_to(link: Path, copy: Path) -> bool:
    try:
        return os.readlink(link) == str(copy)
    except OSError:
        return False  # missing, or not a symlink


def _rename(src: Path, dst: Path, doing: str) -> None:
    try:
        os.rename(src, dst)
    except OSError as e:
        raise os_failure(e, doing) from e


def _unlink(path: Path, doing: str) -> None:
    try:
        path.unlink()
    except OSError as e:
        raise os_failure(e, doing) from e


async def _remove(path: Path, doing: str) -> None:
    """Remove a directory tree, if there."""
    try:
        if path.is_symlink():
            path.unlink()
        elif path.exists():
            await asyncio.to_thread(shutil.rmtree, path)
    except OSError as e:
        raise os_failure(e, doing) from e
