"""Making, mounting, formatting, growing and deleting disks on real loop devices."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import pytest

from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost, FsType
from podyard.disks.ownership import Owner
from tests.disk.conftest import GB, MiB, fs_size, loops_of, mounted_at, mounts_under, real_bytes


@pytest.mark.parametrize("fs", ["xfs", "ext4"])
def test_a_1000_gb_disk_shows_its_size_and_costs_almost_nothing(data_dir: Path, fs: FsType) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-big", 1000 * GB, fs)
        target = await host.ensure_mounted("vol-big")
        image = host.layout.disk_image("vol-big")
        assert 0.97 * 1000 * GB <= fs_size(target) <= 1000 * GB
        assert image.stat().st_size == 1000 * GB
        assert real_bytes(image) < 100 * MiB
        assert real_bytes(host.layout.pool_image) < 150 * MiB
        assert mounted_at(target) == loops_of(image)

    asyncio.run(scenario())


def test_writing_past_a_disks_size_gives_enospc(data_dir: Path) -> None:
    async def scenario() -> tuple[Path, Path]:
        host = DiskHost(data_dir)
        await host.create("vol-small", 64 * MiB, "ext4")
        await host.create("vol-xfs", 320 * MiB, "xfs")
        return await host.ensure_mounted("vol-small"), await host.ensure_mounted("vol-xfs")

    small, xfs = asyncio.run(scenario())
    written = 0
    chunk = os.urandom(MiB)
    with pytest.raises(OSError) as info, open(small / "fill", "wb") as f:
        for _ in range(100):
            f.write(chunk)
            f.flush()
            written += MiB
    assert info.value.errno == errno.ENOSPC
    assert 40 * MiB <= written < 64 * MiB
    fd = os.open(xfs / "big", os.O_CREAT | os.O_WRONLY)
    try:
        with pytest.raises(OSError) as info:
            os.posix_fallocate(fd, 0, 400 * MiB)
        assert info.value.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_attaching_twice_makes_one_loop_device_and_one_mount(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1 * GB, "ext4")
        first = await host.ensure_mounted("vol-1")
        again = await asyncio.gather(*(host.ensure_mounted("vol-1") for _ in range(3)))
        assert again == [first] * 3
        restarted = DiskHost(data_dir)  # a restart of podyard: nothing in memory
        assert await restarted.ensure_mounted("vol-1") == first
        image = host.layout.disk_image("vol-1")
        assert len(loops_of(image)) == 1
        assert mounted_at(first) == loops_of(image)

    asyncio.run(scenario())


def test_a_disk_moved_to_another_pod_is_owned_by_its_range(data_dir: Path) -> None:
    first, second = Owner(2_000_000, 2_100_000, 65536), Owner(3_000_000, 3_100_000, 65536)

    async def mount(owner: Owner) -> Path:
        return await DiskHost(data_dir).ensure_mounted("vol-1", owner)

    asyncio.run(DiskHost(data_dir).create("vol-1", 1 * GB, "ext4"))
    target = asyncio.run(mount(first))
    assert (target.stat().st_uid, target.stat().st_gid) == (first.uid, first.gid)
    assert (target / "lost+found").stat().st_uid == first.uid  # root's inside the pod
    (target / "app").mkdir()
    os.chown(target / "app", first.uid + 1000, first.gid + 1000)  # uid 1000 inside
    (target / "app" / "tool").write_text("#!/bin/sh\n")
    os.chown(target / "app" / "tool", first.uid, first.gid)
    os.chmod(target / "app" / "tool", 0o4755)
    (target / "host-file").write_text("")  # owned by the host's root: outside any range

    asyncio.run(DiskHost(data_dir).unmount("vol-1"))
    target = asyncio.run(mount(second))
    assert (target.stat().st_uid, target.stat().st_gid) == (second.uid, second.gid)
    app = (target / "app").stat()
    assert (app.st_uid, app.st_gid) == (second.uid + 1000, second.gid + 1000)
    tool = (target / "app" / "tool").stat()
    assert (tool.st_uid, tool.st_mode & 0o7777) == (second.uid, 0o4755)  # set-user-id kept
    assert (target / "host-file").stat().st_uid == second.uid
    asyncio.run(mount(second))  # the same range again: nothing moves
    assert (target / "app").stat().st_uid == second.uid + 1000


def test_format_makes_an_empty_filesystem_and_drops_the_old_data(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1 * GB, "ext4")
        target = await host.ensure_mounted("vol-1")
        (target / "data").write_bytes(os.urandom(32 * MiB))
        image = host.layout.disk_image("vol-1")
        await host.unmount("vol-1")
        assert real_bytes(image) > 32 * MiB
        await host.format("vol-1", "xfs")
        assert not loops_of(image) and not mounted_at(target)
        target = await host.ensure_mounted("vol-1")
        assert list(target.iterdir()) == []
        assert real_bytes(image) < 80 * MiB  # the xfs log, not the old data
        with open("/proc/self/mountinfo") as f:
            assert any(f" {target} " in line and " - xfs " in line for line in f)

    asyncio.run(scenario())


def test_a_disk_grows_mounted_xfs_now_and_ext4_at_its_next_mount(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-x", 1 * GB, "xfs")
        await host.create("vol-e", 1 * GB, "ext4")
        x, e = await host.ensure_mounted("vol-x"), await host.ensure_mounted("vol-e")
        (e / "keep").write_text("kept")
        assert await host.resize("vol-x", 2 * GB)
        assert 1.9 * GB < fs_size(x) <= 2 * GB
        await host.resize("vol-e", 2 * GB)  # grown now if the host lets it, else at the next mount
        await host.unmount("vol-e")
        e = await host.ensure_mounted("vol-e")
        assert 1.9 * GB < fs_size(e) <= 2 * GB
        assert (e / "keep").read_text() == "kept"
        with pytest.raises(DiskFailure, match="cannot shrink"):
            await host.resize("vol-e", 1 * GB)

    asyncio.run(scenario())


def test_delete_leaves_nothing_behind(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1 * GB, "xfs")
        target = await host.ensure_mounted("vol-1")
        await host.snapshot("vol-1", "snap-1")
        await host.delete("vol-1")
        await host.delete("vol-1")  # gone already: nothing
        await host.delete_snapshot("snap-1")
        assert await host.disks() == set() and await host.snapshots() == set()
        assert not target.exists()
        assert mounts_under(data_dir) == [str(host.layout.root), str(host.layout.pool)]
        assert list(loops_of(host.layout.pool_image)) and len(loops_of(host.layout.pool_image)) == 1
        assert sorted(p.name for p in host.layout.disks_dir.iterdir()) == []

    asyncio.run(scenario())


def test_bad_requests_are_refused_in_words(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        with pytest.raises(DiskFailure, match="not a valid disk id"):
            await host.create("../etc", GB)
        with pytest.raises(DiskFailure, match="xfs disk needs at least 300 MB"):
            await host.create("vol-1", 64 * MiB, "xfs")
        with pytest.raises(DiskFailure, match="does not exist"):
            await host.ensure_mounted("vol-nope")
        assert await host.disks() == set()
        assert list(host.layout.disks_dir.iterdir()) == []  # no partial image left

    asyncio.run(scenario())
