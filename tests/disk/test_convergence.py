"""Crashes, restarts and reboots converge: ensure_* re-make what is missing and reuse what
is there, sweep removes what is not wanted; never a second loop device or a stale mount."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from podyard.disks.host import DiskHost
from tests.disk.conftest import (
    GB,
    MiB,
    kill_group,
    loops_of,
    loops_under,
    mounted_at,
    mounts_under,
    reboot,
    sh,
    was_frozen,
)


def test_a_loop_device_left_by_a_crash_is_reused(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1 * GB, "ext4")
        image = host.layout.disk_image("vol-1")
        # A crash after losetup, before the mount; and a second device a bug once made.
        first = sh("losetup", "--find", "--show", str(image)).stdout.strip()
        second = sh("losetup", "--find", "--show", str(image)).stdout.strip()
        assert len(loops_of(image)) == 2
        target = await DiskHost(data_dir).ensure_mounted("vol-1")
        # One of them kept (which one, the kernel's listing decides), the other detached.
        kept = loops_of(image)
        assert len(kept) == 1 and kept[0] in (first, second) and mounted_at(target) == kept

    asyncio.run(scenario())


def test_stale_and_stacked_mounts_are_replaced_by_one(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1 * GB, "ext4")
        target = await host.ensure_mounted("vol-1")
        (target / "data").write_text("kept")
        image = host.layout.disk_image("vol-1")
        sh("mount", "-t", "tmpfs", "stale", str(target))  # something else stacked on it
        target = await DiskHost(data_dir).ensure_mounted("vol-1")
        assert mounted_at(target) == loops_of(image) and len(loops_of(image)) == 1
        assert (target / "data").read_text() == "kept"

    asyncio.run(scenario())


def test_sweep_removes_what_is_not_wanted(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        for disk_id in ("vol-a", "vol-b", "vol-c"):
            await host.create(disk_id, 1 * GB, "ext4")
            await host.ensure_mounted(disk_id)
        lay = host.layout
        # A mount whose image was removed under it; a frozen disk (a snapshot cut short);
        # a stray mount; partial files of steps a crash cut short.
        lay.disk_image("vol-a").unlink()
        sh("fsfreeze", "--freeze", str(lay.disk_mount("vol-b")))
        stray = lay.mnt / "stray"
        stray.mkdir()
        sh("mount", "-t", "tmpfs", "stray", str(stray))
        (lay.disks_dir / "vol-x.img.new").write_bytes(b"half")
        (lay.snapshots_dir / "snap-x.img.new").write_bytes(b"half")

        swept = await DiskHost(data_dir).sweep({"vol-a", "vol-b"})
        assert str(lay.disk_mount("vol-a")) in swept.unmounted
        assert str(lay.disk_mount("vol-c")) in swept.unmounted
        assert str(stray) in swept.unmounted
        assert not mounted_at(lay.disk_mount("vol-a")) and not mounted_at(lay.disk_mount("vol-c"))
        assert not loops_of(lay.disk_image("vol-a")) and not loops_of(lay.disk_image("vol-c"))
        assert not was_frozen(lay.disk_mount("vol-b"))  # thawed by the sweep
        assert len(mounted_at(lay.disk_mount("vol-b"))) == 1 and len(loops_of(lay.disk_image("vol-b"))) == 1
        assert sorted(p.name for p in lay.disks_dir.iterdir()) == ["vol-b.img", "vol-c.img"]
        assert list(lay.snapshots_dir.iterdir()) == []
        assert sorted(p.name for p in lay.mnt.iterdir()) == ["vol-b"]

        # The store knows of vol-b only: vol-c's image goes too.
        await DiskHost(data_dir).sweep({"vol-b"}, disks={"vol-b"}, snapshots=set())
        assert await host.disks() == {"vol-b"}

    asyncio.run(scenario())


_CHILD = """
import asyncio, sys
from pathlib import Path
from podyard.disks.host import DiskHost

async def main():
    host = DiskHost(Path(sys.argv[1]))
    ids = [f"vol-{i}" for i in range(3)]
    for disk_id in ids:
        await host.create(disk_id, 64 * 1024**2, "ext4")
    print("made", flush=True)
    while True:
        for disk_id in ids:
            await host.ensure_mounted(disk_id)
        await host.snapshot(ids[0], "snap-0")
        await host.delete_snapshot("snap-0")
        for disk_id in ids:
            await host.unmount(disk_id)

asyncio.run(main())
"""


def test_a_kill_9_while_attaching_converges_on_restart(data_dir: Path) -> None:
    ids = {f"vol-{i}" for i in range(3)}

    async def restart() -> None:
        host = DiskHost(data_dir)
        await host.sweep(ids, disks=ids, snapshots=set())
        for disk_id in sorted(ids):
            target = await host.ensure_mounted(disk_id)
            image = host.layout.disk_image(disk_id)
            assert len(loops_of(image)) == 1 and mounted_at(target) == loops_of(image)
            assert not was_frozen(target)
        assert await host.snapshots() == set()

    # A podyard that attaches, snapshots and detaches in a loop, killed at different points
    # of it; each restart converges, and the next podyard goes on from there.
    for delay in (0.03, 0.08, 0.13, 0.19, 0.26, 0.34):
        # Its own process group, killed whole: its losetup or mount die with it (as systemd
        # kills a service's cgroup), rather than finish after the restart began.
        argv = [sys.executable, "-c", _CHILD, str(data_dir)]
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert child.stdout is not None and child.stdout.readline() == "made\n"
        time.sleep(delay)
        kill_group(child)
        asyncio.run(restart())

    async def nothing_wanted() -> None:
        host = DiskHost(data_dir)
        await host.sweep(set())
        assert mounts_under(data_dir) == [str(host.layout.root), str(host.layout.pool)]
        assert list(loops_under(data_dir).values()) == [str(host.layout.pool_image)]

    asyncio.run(nothing_wanted())


def test_after_a_reboot_the_pool_and_disks_come_back_with_their_data(data_dir: Path) -> None:
    async def before() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-x", 1000 * GB, "xfs")
        await host.create("vol-e", 64 * MiB, "ext4")
        for disk_id in ("vol-x", "vol-e"):
            (await host.ensure_mounted(disk_id) / "data").write_text(disk_id)
        await host.snapshot("vol-x", "snap-x")

    async def after() -> None:
        host = DiskHost(data_dir)
        await host.ensure_pool()
        assert await host.snapshots() == {"snap-x"}
        for disk_id in ("vol-x", "vol-e"):
            target = await host.ensure_mounted(disk_id)
            assert (target / "data").read_text() == disk_id
            assert len(loops_of(host.layout.disk_image(disk_id))) == 1
        assert len(loops_of(host.layout.pool_image)) == 1

    asyncio.run(before())
    os.sync()
    reboot(data_dir)
    asyncio.run(after())
