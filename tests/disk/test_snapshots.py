"""Snapshots are consistent reflink copies in the pool: taken while the disk is mounted and
written, they cost no space, and a disk made from one has its data."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import pytest

from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost
from tests.disk.conftest import GB, MiB, fs_size, loops_of, mounted_at, was_frozen


def test_a_snapshot_of_a_written_disk_costs_no_space_and_makes_a_disk_with_its_data(data_dir: Path) -> None:
    bulk = os.urandom(48 * MiB)

    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 1000 * GB, "xfs")
        target = await host.ensure_mounted("vol-1")
        (target / "bulk").write_bytes(bulk)
        os.sync()
        before = await host.usage()
        (target / "late").write_text("written just before")  # not synced: the freeze flushes it
        await host.snapshot("vol-1", "snap-1")
        taken = await host.usage()
        assert not was_frozen(target)
        (target / "after").write_text("the disk is writable again")

        await host.create("vol-2", 1100 * GB, "xfs", snapshot_id="snap-1")
        copy = await host.ensure_mounted("vol-2")
        made = await host.usage()
        # The copies share the 48 MB (and the 64 MB xfs log) with the disk.
        for grown in (taken.pool_used - before.pool_used, made.pool_used - taken.pool_used):
            assert grown < 16 * MiB
        assert made.pool_on_host - before.pool_on_host < 16 * MiB
        assert hashlib.sha256((copy / "bulk").read_bytes()).digest() == hashlib.sha256(bulk).digest()
        assert (copy / "late").read_text() == "written just before"
        assert not (copy / "after").exists()
        assert 1.09 * 1000 * GB < fs_size(copy) <= 1100 * GB  # grown to the size asked
        image = host.layout.disk_image("vol-2")
        assert mounted_at(copy) == loops_of(image) and len(loops_of(image)) == 1

    asyncio.run(scenario())


def test_an_ext4_disk_from_a_snapshot_grows_to_its_size(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir)
        await host.create("vol-1", 64 * MiB, "ext4")
        (await host.ensure_mounted("vol-1") / "data").write_text("ext4 data")
        await host.unmount("vol-1")
        await host.snapshot("vol-1", "snap-1")  # of a detached disk: nothing to freeze
        await host.create("vol-2", 256 * MiB, "ext4", snapshot_id="snap-1")
        copy = await host.ensure_mounted("vol-2")
        assert (copy / "data").read_text() == "ext4 data"
        assert 224 * MiB < fs_size(copy) <= 256 * MiB  # less its own metadata; 64 MB before
        await host.snapshot("vol-1", "snap-1")  # taken already: nothing
        with pytest.raises(DiskFailure, match="needs at least its 64 MB"):
            await host.create("vol-3", 32 * MiB, "ext4", snapshot_id="snap-1")
        with pytest.raises(DiskFailure, match="snapshot snap-nope does not exist"):
            await host.create("vol-3", 1 * GB, "ext4", snapshot_id="snap-nope")
        assert await host.disks() == {"vol-1", "vol-2"}

    asyncio.run(scenario())
