"""The disks of one podyard instance on this host: its pool, its disks' images, their loop
devices and mounts, its snapshots.

The pool is a sparse image (DATA_DIR/disks/pool.img) on a loop device, formatted btrfs
and mounted at DATA_DIR/disks/pool: the host's own filesystem (ext4) cannot reflink, the
pool can, so a snapshot, and a disk made from one, is an instant copy that takes no space
until one side is written. A disk is a sparse image in the pool (pool/disks/ID.img), made
formatted (under a partial name, renamed once whole), on a loop device, mounted at
DATA_DIR/disks/mnt/ID, where the runtime bind-mounts it into pods.

DATA_DIR/disks is itself a shared mount (a bind onto itself). Podman's conmon processes,
``ip netns exec`` and others run in mount namespaces copied from the host's; a copy of a
private mount outlives its unmount on the host and keeps its filesystem, its loop device
and the pool busy for as long as that process lives. Below a shared mount, the copies are
peers: a mount or unmount here happens in every copy too.

Every step is idempotent and reads the host's state from the kernel (losetup, mountinfo),
never from memory, so a crash anywhere, a kill -9 in the middle of attaching or a host
reboot, converges on the next call: ``ensure_pool`` and ``ensure_mounted`` re-make what is
missing and reuse what is there (one loop device per image, one mount per disk), and
``sweep`` removes what is not wanted. Per-disk locks keep one process's calls apart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from podyard import faults
from podyard.disks import layers, ownership, space, throttle
from podyard.disks.commands import os_failure, run
from podyard.disks.devices import (
    attach,
    backing_of,
    detach,
    device_number,
    loops,
    mounted_at,
    mounts,
    unmount,
)
from podyard.disks.errors import DiskFailure
from podyard.disks.names import IMAGE, PARTIAL, Layout, checked_id
from podyard.disks.ownership import Owner
from podyard.disks.space import GB, Usage

log = logging.getLogger(__name__)

FsType = Literal["xfs", "ext4"]
FS_TYPES: tuple[FsType, ...] = ("xfs", "ext4")
TiB = 1024**4
DEFAULT_POOL_SIZE = 2 * TiB
XFS_MIN_SIZE = 300 * 1024**2  # mkfs.xfs refuses smaller filesystems
# resize2fs may leave off a last block group too small to hold its own metadata: an ext4
# this much smaller than its image counts as grown (disks grow by whole gigabytes).
_GROW_SLACK = 32 * 1024**2
_XFS_SLACK = 128 * 1024**2

# Formatting writes little, so a 1,000 GB disk takes almost nothing until written: xfs with
# its smallest log (64 MB, written in full), ext4 with its inode tables and journal left
# for the kernel to zero lazily (the loop device turns that into holes). No discard pass
# over a file that is all holes anyway. ext4 reserves no blocks for the host's root: a
# pod's root is not the host's, and would never get them.
_MKFS: dict[str, tuple[str, ...]] = {
    "xfs": ("mkfs.xfs", "-q", "-f", "-K", "-l", "size=64m"),
    "ext4": ("mkfs.ext4", "-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard"),
}
# discard: what a pod deletes becomes holes in its image, then in the pool's image, and
# the host gets the space back. nouuid: a disk made from a snapshot has its source's xfs
# UUID, and xfs refuses to mount a second filesystem with a UUID already mounted.
_MOUNT_OPTIONS = {"xfs": "noatime,nodev,discard,nouuid", "ext4": "noatime,nodev,discard"}
_POOL_OPTIONS = "noatime,discard=async"


@dataclass
class Swept:
    """What a sweep found and removed."""

    unmounted: list[str] = field(default_factory=list)  # mount points
    detached: list[str] = field(default_factory=list)  # loop devices
    removed: list[str] = field(default_factory=list)  # files


class DiskHost:
    def __init__(
        self,
        data_dir: Path,
        instance: str | None = None,
        *,
        pool_size: int = DEFAULT_POOL_SIZE,
        cgroup_root: Path = throttle.CGROUP_ROOT,
    ) -> None:
        self.layout = Layout.for_instance(data_dir, instance or str(data_dir.resolve()))
        self.pool_size = pool_size
        self.cgroup_root = cgroup_root
        self._pool_lock = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}
        # Disks this process has seen mounted on one loop device (ensure_mounted): a stray
        # device appears only from a crash of an earlier process, which the sweep handles.
        self._checked: set[str] = set()

    def lock(self, kind: str, item_id: str) -> asyncio.Lock:
        return self._locks.setdefault(f"{kind}:{item_id}", asyncio.Lock())

    # -- the pool --

    async def ensure_pool(self) -> None:
        """The pool made, on one loop device, mounted: made on first use, re-attached and
        re-mounted after a reboot."""
        async with self._pool_lock:
            lay = self.layout
            if _alone_on(lay.pool, lay.pool_image) and (root := mounted_at(lay.root)) and root[-1].shared:
                return  # in place: read from the kernel without a subprocess
            lay.root.mkdir(parents=True, exist_ok=True)
            os.chmod(lay.root, 0o700)
            await self._share_root()
            if not lay.pool_image.exists():
                await self._make_pool()
            device = await self._one_loop(lay.pool_image, lay.pool)
            stacked = mounted_at(lay.pool)
            if not (len(stacked) == 1 and stacked[0].source == device):
                await unmount(lay.pool, "unmounting a stale disk pool")
                lay.pool.mkdir(exist_ok=True)
                mount = ("mount", "-t", "btrfs", "-o", _POOL_OPTIONS, device, str(lay.pool))
                await run(*mount, doing="mounting the disk pool")
            for d in (lay.disks_dir, lay.snapshots_dir, lay.mnt):
                d.mkdir(exist_ok=True)

    async def _share_root(self) -> None:
        root = self.layout.root
        if not mounted_at(root):
            # Mounts made below before the root was shared (by hand) would stay private.
            for m in reversed(mounts()):
                if self.layout.owns(m.target):
                    await unmount(Path(m.target), f"unmounting {m.target}")
            await run("mount", "--bind", str(root), str(root), doing="sharing the disks directory")
        if not mounted_at(root)[-1].shared:
            await run("mount", "--make-shared", str(root), doing="sharing the disks directory")

    async def _make_pool(self) -> None:
        lay = self.layout
        partial = lay.pool_image.with_name(lay.pool_image.name + PARTIAL)
        try:
            _sparse(partial, self.pool_size, "making the disk pool")
            await run("mkfs.btrfs", "-q", "-f", "-K", "-L", lay.label, str(partial), doing="making the disk pool")
            os.replace(partial, lay.pool_image)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        log.info("made the disk pool %s (%d GB, sparse)", lay.pool_image, self.pool_size // GB)

    async def _one_loop(self, image: Path, target: Path) -> str:
        """The one loop device over ``image``: the one mounted at ``target`` if any, else
        one already there, else a new one; any other over it is detached."""
        over = [lp for lp in await loops() if lp.backing == str(image)]
        mounted = {m.source for m in mounted_at(target)}
        live = sorted((lp for lp in over if not lp.deleted), key=lambda lp: lp.device not in mounted)
        device = live[0].device if live else await attach(image)
        for lp in over:
            if lp.device != device:
                await detach(lp.device)
        return device

    # -- disks --

    async def create(self, disk_id: str, size: int, fs: FsType = "xfs", *, snapshot_id: str | None = None) -> None:
        """A disk's image, formatted, or a copy of a snapshot's (its filesystem then grows
        to ``size`` when first mounted). Nothing is attached. Done already: nothing."""
        image = self.layout.disk_image(disk_id)
        if fs not in FS_TYPES:
            raise DiskFailure(f"{fs!r} is not a filesystem podyard makes (it makes {', '.join(FS_TYPES)})")
        async with self.lock("disk", disk_id):
            await self.ensure_pool()
            if image.exists():
                return
            partial = image.with_name(image.name + PARTIAL)
            doing = f"making disk {disk_id}"
            try:
                if snapshot_id is None:
                    await _format(partial, size, fs, doing)
                else:
                    await self._copy_snapshot(snapshot_id, partial, size, doing)
                os.replace(partial, image)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise

    async def _copy_snapshot(self, snapshot_id: str, partial: Path, size: int, doing: str) -> None:
        source = self.layout.snapshot_image(snapshot_id)
        async with self.lock("snapshot", snapshot_id):
            if not source.exists():
                raise DiskFailure(f"snapshot {snapshot_id} does not exist on this host")
            if size < source.stat().st_size:
                raise DiskFailure(
                    f"a disk made from snapshot {snapshot_id} needs at least its {_size(source.stat().st_size)}"
                )
            await run("cp", "--reflink=always", str(source), str(partial), doing=doing)
        try:
            os.truncate(partial, size)
        except OSError as e:
            raise os_failure(e, doing) from e

    async def format(self, disk_id: str, fs: FsType = "xfs") -> None:
        """A new, empty filesystem on a disk (formatVolume): the disk is unmounted and
        detached first, and left so; ``ensure_mounted`` mounts it again."""
        if fs not in FS_TYPES:
            raise DiskFailure(f"{fs!r} is not a filesystem podyard makes (it makes {', '.join(FS_TYPES)})")
        async with self.lock("disk", disk_id):
            await self.ensure_pool()
            image = self._existing(disk_id)
            await self._release(disk_id)
            # A new sparse image, renamed over the old one: none of the old data stays on the
            # host (nor takes its space), and a crash leaves the old disk or the new one.
            partial = image.with_name(image.name + PARTIAL)
            try:
                await _format(partial, image.stat().st_size, fs, f"formatting disk {disk_id}")
                os.replace(partial, image)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise

    async def ensure_mounted(self, disk_id: str, owner: Owner | None = None) -> Path:
        """The disk on one loop device, mounted once at its mount point, its filesystem
        grown to its image's size, and (``owner`` given) owned by that user-namespace range;
        the mount point. Already so: nothing but checks."""
        async with self.lock("disk", disk_id):
            await self.ensure_pool()
            image = self._existing(disk_id)
            target = self.layout.disk_mount(disk_id)
            if disk_id in self._checked and _alone_on(target, image):
                # Checked by this process, and still mounted once from a loop device over
                # its image (read from the kernel, no subprocess).
                pass
            else:
                device = await self._one_loop(image, target)  # losetup: it sees them all
                if not _alone_on(target, image, device):
                    await self._mount(disk_id, image, device, target)
                self._checked.add(disk_id)
            if owner is not None:
                changed = await asyncio.to_thread(ownership.give, target, owner)
                if changed:
                    log.info("disk %s: %d files now owned by %s", disk_id, changed, owner.encode())
            return target

    async def _mount(self, disk_id: str, image: Path, device: str, target: Path) -> None:
        """Mount the disk's ``device`` at ``target``, alone, its filesystem grown to its image."""
        faults.point("disks.looped")
        await unmount(target, f"unmounting a stale mount of disk {disk_id}")
        target.mkdir(parents=True, exist_ok=True)
        fs = await _fstype(device, disk_id)
        if fs == "ext4":
            await _grow_ext4_offline(device, image, disk_id)
        await run("mount", "-t", fs, "-o", _MOUNT_OPTIONS[fs], device, str(target), doing=f"mounting disk {disk_id}")
        if fs == "xfs" and _smaller_than(target, image):
            await run("xfs_growfs", "-d", str(target), doing=f"growing disk {disk_id}")
        log.info("mounted disk %s (%s on %s) at %s", disk_id, fs, device, target)

    async def unmount(self, disk_id: str) -> None:
        """The disk unmounted and its loop device detached (its image stays)."""
        async with self.lock("disk", disk_id):
            await self._release(disk_id)

    async def _release(self, disk_id: str) -> None:
        self._checked.discard(disk_id)
        target = self.layout.disk_mount(disk_id)
        await unmount(target, f"unmounting disk {disk_id} (is it still in use on the host?)")
        image = str(self.layout.disk_image(disk_id))
        for lp in await loops():
            if lp.backing == image:
                await detach(lp.device)
        _rmdir(target)

    async def delete(self, disk_id: str) -> None:
        """Unmounted, detached, its image removed. Gone already: nothing."""
        async with self.lock("disk", disk_id):
            await self.ensure_pool()
            await self._release(disk_id)
            image = self.layout.disk_image(disk_id)
            image.with_name(image.name + PARTIAL).unlink(missing_ok=True)
            image.unlink(missing_ok=True)

    async def resize(self, disk_id: str, size: int) -> bool:
        """Grow a disk to ``size`` bytes; whether its filesystem has the new size already
        (else it grows at its next mount: this host cannot grow a mounted ext4, which needs
        CAP_SYS_RESOURCE)."""
        async with self.lock("disk", disk_id):
            await self.ensure_pool()
            image = self._existing(disk_id)
            now = image.stat().st_size
            if size < now:
                raise DiskFailure(f"disk {disk_id} cannot shrink from {_size(now)} to {_size(size)}")
            if size > now:
                try:
                    os.truncate(image, size)
                except OSError as e:
                    raise os_failure(e, f"growing disk {disk_id}") from e
            target = self.layout.disk_mount(disk_id)
            for lp in await loops():
                if lp.backing == str(image) and not lp.deleted:
                    await run("losetup", "--set-capacity", lp.device, doing=f"growing disk {disk_id}")
            stacked = mounted_at(target)
            if not stacked:
                return False
            if stacked[-1].fstype == "xfs":
                await run("xfs_growfs", "-d", str(target), doing=f"growing disk {disk_id}")
                return True
            try:
                await run("resize2fs", stacked[-1].source, doing=f"growing disk {disk_id}")
            except DiskFailure as e:
                log.info("disk %s grows at its next mount: %s", disk_id, e.message)
                return False
            return True

    def _existing(self, disk_id: str) -> Path:
        image = self.layout.disk_image(disk_id)
        if not image.exists():
            raise DiskFailure(f"disk {disk_id} does not exist on this host")
        return image

    async def loop_of(self, disk_id: str) -> str | None:
        """The disk's loop device, if attached."""
        image = str(self.layout.disk_image(disk_id))
        return next((lp.device for lp in await loops() if lp.backing == image and not lp.deleted), None)

    # -- snapshots --

    async def snapshot(self, disk_id: str, snapshot_id: str) -> None:
        """A consistent copy of the disk: its filesystem frozen (if mounted) while its
        image is reflinked into the pool's snapshots. Done already: nothing."""
        snap = self.layout.snapshot_image(snapshot_id)
        async with self.lock("disk", disk_id), self.lock("snapshot", snapshot_id):
            await self.ensure_pool()
            image = self._existing(disk_id)
            if snap.exists():
                return
            partial = snap.with_name(snap.name + PARTIAL)
            target = self.layout.disk_mount(disk_id)
            doing = f"taking snapshot {snapshot_id} of disk {disk_id}"
            frozen = False
            try:
                if mounted_at(target):
                    await run("fsfreeze", "--freeze", str(target), doing=doing)
                    frozen = True
                await run("cp", "--reflink=always", str(image), str(partial), doing=doing)
                os.replace(partial, snap)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
            finally:
                if frozen:
                    await run("fsfreeze", "--unfreeze", str(target), check=False)

    async def delete_snapshot(self, snapshot_id: str) -> None:
        snap = self.layout.snapshot_image(snapshot_id)
        async with self.lock("snapshot", snapshot_id):
            await self.ensure_pool()
            snap.with_name(snap.name + PARTIAL).unlink(missing_ok=True)
            snap.unlink(missing_ok=True)

    # -- what exists --

    async def disks(self) -> set[str]:
        await self.ensure_pool()
        return _ids(self.layout.disks_dir)

    async def snapshots(self) -> set[str]:
        await self.ensure_pool()
        return _ids(self.layout.snapshots_dir)

    # -- space --

    async def usage(self) -> Usage:
        await self.ensure_pool()
        await run("btrfs", "filesystem", "sync", str(self.layout.pool), doing="reading the disk pool's usage")
        return await asyncio.to_thread(space.measure, self.layout.pool_image, self.layout.pool)

    async def check_room(self, new_bytes: int, promised_bytes: int, overcommit: float) -> Usage:
        """Raise NoRoom when a new disk of ``new_bytes`` would take the promised total past
        ``overcommit`` × what the host can hold (space.py); the usage read."""
        usage = await self.usage()
        space.check_room(usage, new_bytes, promised_bytes, overcommit)
        return usage

    # -- iops --

    async def throttle(self, disk_id: str, cgroup: str, riops: int | None, wiops: int | None) -> list[Path]:
        """Limit the reads and writes per second that ``cgroup`` (a path in the block I/O
        hierarchy, as /proc/PID/cgroup has it; the pod's) makes on the disk; None: no limit.
        What is throttled depends on the host's cgroup version (throttle.py). The cgroup
        directories written."""
        ctl = throttle.controller(self.cgroup_root)
        if ctl is None:
            raise DiskFailure("this host has no block I/O controller: iops limits cannot be applied")
        device = await self.loop_of(disk_id)
        if device is None:
            raise DiskFailure(f"disk {disk_id} is not attached: no iops limit can be applied")
        return await asyncio.to_thread(throttle.apply, ctl, cgroup, device_number(device), riops, wiops)

    # -- convergence --

    async def sweep(
        self, mounted: Iterable[str], *, disks: Iterable[str] | None = None, snapshots: Iterable[str] | None = None
    ) -> Swept:
        """Everything of this instance not wanted, gone: disks not in ``mounted`` unmounted
        and detached (images kept), stale or stacked mounts and second loop devices of the
        wanted ones too (``ensure_mounted`` then mounts them again), frozen ones thawed, the
        partial files of steps a crash cut short removed; with ``disks`` / ``snapshots``,
        the images of every other disk / snapshot removed."""
        await self.ensure_pool()
        lay = self.layout
        keep = set(mounted)
        wanted_disks = None if disks is None else set(disks) | keep
        wanted_snapshots = None if snapshots is None else set(snapshots)
        swept = Swept()
        found = {m_id for m in mounts() if (m_id := lay.disk_of_mount(m.target))}
        found |= {lp_id for lp in await loops() if (lp_id := lay.disk_of_image(lp.backing))}
        for disk_id in sorted(found):
            async with self.lock("disk", disk_id):
                await self._settle(disk_id, disk_id in keep, swept)
        # Whatever else of this instance is mounted or looped: not podyard's doing.
        for m in reversed(mounts()):
            if m.target in (str(lay.root), str(lay.pool)) or not lay.owns(m.target):
                continue
            if lay.disk_of_mount(m.target) not in keep:
                await unmount(Path(m.target), f"unmounting {m.target}")
                swept.unmounted.append(m.target)
        for lp in await loops():
            if lay.in_pool(lp.backing) and lay.disk_of_image(lp.backing) not in keep:
                await detach(lp.device)
                swept.detached.append(lp.device)
        for kind, folder, wanted in (
            ("disk", lay.disks_dir, wanted_disks),
            ("snapshot", lay.snapshots_dir, wanted_snapshots),
        ):
            for f in sorted(folder.iterdir()):
                item_id = f.name.split(".", 1)[0]
                if f.name.endswith(PARTIAL) or (wanted is not None and item_id not in wanted):
                    async with self.lock(kind, item_id):
                        f.unlink(missing_ok=True)
                    swept.removed.append(str(f))
        for folder in lay.mnt.iterdir():
            if _rmdir(folder):  # empty and not mounted
                swept.removed.append(str(folder))
        return swept

    async def _settle(self, disk_id: str, keep: bool, swept: Swept) -> None:
        self._checked.discard(disk_id)
        image = self.layout.disk_image(disk_id)
        target = self.layout.disk_mount(disk_id)
        over = [lp for lp in await loops() if lp.backing == str(image)]
        live = {lp.device for lp in over if not lp.deleted} if image.exists() else set()
        stacked = mounted_at(target)
        good = keep and len(stacked) == 1 and stacked[0].source in live
        if stacked and not good:
            await unmount(target, f"unmounting disk {disk_id}")
            swept.unmounted.append(str(target))
        if good:
            await run("fsfreeze", "--unfreeze", str(target), check=False)
        kept = stacked[0].source if good else (min(live) if keep and live else None)
        for lp in over:
            if lp.device != kept:
                await detach(lp.device)
                swept.detached.append(lp.device)

    async def teardown(self, *, remove: bool = True) -> None:
        """Everything of this instance gone from the host: mounts, loop devices, and with
        ``remove`` the pool's image and all it holds (``podyard down [--purge]``). A disk
        still in use on the host stops it, loudly."""
        lay = self.layout
        self._checked.clear()
        async with self._pool_lock:
            for m in reversed(mounts()):
                if lay.owns(m.target) and m.target not in (str(lay.root), str(lay.pool)):
                    await unmount(Path(m.target), f"unmounting {m.target} (is it still in use?)")
            for lp in await loops():
                if lay.in_pool(lp.backing):
                    await detach(lp.device)
            await unmount(lay.pool, "unmounting the disk pool (is a disk still in use?)")
            for lp in await loops():
                if lp.backing == str(lay.pool_image):
                    await detach(lp.device)
            await unmount(lay.root, "unmounting the disks directory")
            left = [m.target for m in mounts() if lay.owns(m.target)]
            left += [lp.device for lp in await loops() if lp.backing == str(lay.pool_image) or lay.in_pool(lp.backing)]
            if left:
                raise DiskFailure(f"the disks of this podyard are still in use: {', '.join(left)}")
            if remove and lay.root.exists():
                await asyncio.to_thread(shutil.rmtree, lay.root)

    # -- containers' writable layers (cloud system disks) --

    async def hold_layer(self, key: str, layer_dir: Path, size: int) -> Path:
        """A container's writable layer (Podman's directory ``layer_dir``, holding diff and
        work) on an ext4 disk ``key`` of ``size`` bytes, so that it fills at that size
        (layers.py): the disk made if missing (``size`` counts then only: ``resize`` grows
        it), mounted, diff and work moved onto it if not yet; the mount point. Call it after
        the container is made, before its first start, and again before it starts after a
        reboot (it then only mounts). ext4: xfs needs 300 MB or more.

        A layer's disk is a disk like any other: ``disks`` lists it and ``sweep`` keeps it
        only when told to, so its key should say what it is (a prefix such as ``sys-``) and
        be new for each container (a copy already on the disk is taken as this layer's)."""
        async with self.lock("layer", key):
            await self.create(key, size, "ext4")
            target = await self.ensure_mounted(key)
            if await layers.move_into(layer_dir, target, key):
                log.info("container layer %s now on disk %s (%s)", layer_dir, key, _size(size))
            return target

    async def drop_layer(self, key: str) -> None:
        """A layer's disk unmounted, detached and removed (``delete``); gone already:
        nothing. Podman removes the layer's directory, and the symlinks, with the container."""
        async with self.lock("layer", key):
            await self.delete(key)


async def _format(image: Path, size: int, fs: FsType, doing: str) -> None:
    """A new sparse image of ``size`` bytes at ``image``, formatted."""
    if fs == "xfs" and size < XFS_MIN_SIZE:
        raise DiskFailure(f"{doing}: an xfs disk needs at least {_size(XFS_MIN_SIZE)}")
    _sparse(image, size, doing)
    await run(*_MKFS[fs], str(image), doing=doing)


async def _fstype(device: str, disk_id: str) -> FsType:
    found = (await run("blkid", "-p", "-o", "value", "-s", "TYPE", device, check=False)).strip()
    for fs in FS_TYPES:
        if found == fs:
            return fs
    raise DiskFailure(f"disk {disk_id} has no filesystem podyard can mount ({found or 'none'}): format it")


async def _grow_ext4_offline(device: str, image: Path, disk_id: str) -> None:
    """Grow an unmounted ext4 to its device's size, if smaller (this host cannot grow a
    mounted one: the kernel wants CAP_SYS_RESOURCE)."""
    doing = f"growing disk {disk_id}"
    header = await run("dumpe2fs", "-h", device, doing=doing)
    fields = dict(line.split(":", 1) for line in header.splitlines() if ":" in line)
    if int(fields["Block count"]) * int(fields["Block size"]) + _GROW_SLACK >= image.stat().st_size:
        return
    await run("e2fsck", "-f", "-p", device, check=False)  # resize2fs refuses an unchecked filesystem
    await run("resize2fs", device, doing=doing)


def _alone_on(target: Path, image: Path, device: str | None = None) -> bool:
    """Whether one filesystem is mounted at ``target``, from a loop device over ``image``
    (``device``, if given)."""
    stacked = mounted_at(target)
    if len(stacked) != 1:
        return False
    return stacked[0].source == device if device else backing_of(stacked[0].source) == str(image)


def _smaller_than(target: Path, image: Path) -> bool:
    """Whether the xfs mounted at ``target`` is smaller than its image: a copy of a smaller
    snapshot, or a disk grown (xfs leaves out only its internal log, 64 MB, from its size)."""
    fs = os.statvfs(target)
    return image.stat().st_size - fs.f_blocks * fs.f_frsize > _XFS_SLACK


def _sparse(path: Path, size: int, doing: str) -> None:
    try:
        with open(path, "wb") as f:
            f.truncate(size)
    except OSError as e:
        raise os_failure(e, doing) from e


def _rmdir(path: Path) -> bool:
    """Remove an empty directory that is no mount point; whether it went."""
    if mounted_at(path):
        return False
    try:
        path.rmdir()
    except OSError:
        return False
    return True


def _ids(folder: Path) -> set[str]:
    return {f.name[: -len(IMAGE)] for f in folder.iterdir() if f.name.endswith(IMAGE)}


def _size(n: int) -> str:
    return f"{n / GB:,.0f} GB" if n >= GB else f"{n / 1024**2:,.0f} MB"


__all__ = ["FS_TYPES", "DiskHost", "FsType", "Owner", "Swept", "checked_id"]
