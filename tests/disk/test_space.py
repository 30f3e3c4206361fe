"""Sparse disks may promise more than the host has, up to the operator's overcommit; past
it a new disk is refused, and a full pool is a clear error, never a half-made disk."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from podyard.disks.errors import NoRoom, PoolFull
from podyard.disks.host import DiskHost
from podyard.disks.space import Usage, check_room
from tests.disk.conftest import GB, MiB


def test_the_capacity_is_the_hosts_free_space_and_the_pools_own_but_no_more_than_the_pool() -> None:
    assert Usage(pool_size=2048 * GB, pool_used=0, pool_on_host=10 * GB, host_free=90 * GB).capacity == 100 * GB
    assert Usage(pool_size=50 * GB, pool_used=0, pool_on_host=10 * GB, host_free=90 * GB).capacity == 50 * GB


def test_a_disk_past_the_overcommit_is_refused_in_words() -> None:
    usage = Usage(pool_size=2048 * GB, pool_used=0, pool_on_host=10 * GB, host_free=90 * GB)
    check_room(usage, 100 * GB, 0, 1.0)
    check_room(usage, 100 * GB, 200 * GB, 3.0)
    with pytest.raises(NoRoom) as info:
        check_room(usage, 100 * GB, 201 * GB, 3.0)
    assert info.value.message == (
        "the host cannot take a disk of 100 GB: 201 GB are already promised of 300 GB "
        "(3 × the 100 GB the host's disk pool can hold)"
    )


def test_the_pools_room_is_measured_on_the_host(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir, pool_size=1 * GB)
        usage = await host.check_room(2 * GB, 0, 4.0)
        assert usage.pool_size == 1 * GB and usage.capacity == 1 * GB
        assert 0 < usage.pool_on_host < 32 * MiB and usage.host_free > 0
        with pytest.raises(NoRoom, match="cannot take a disk of 2 GB"):
            await host.check_room(2 * GB, 0, 1.0)
        with pytest.raises(NoRoom):
            await host.check_room(2 * GB, 3 * GB, 4.0)

    asyncio.run(scenario())


def test_a_full_pool_is_a_clear_error_and_leaves_no_half_made_disk(data_dir: Path) -> None:
    async def scenario() -> None:
        host = DiskHost(data_dir, pool_size=256 * MiB)
        made = []
        with pytest.raises(PoolFull) as info:  # each xfs disk holds its 64 MB log
            for i in range(6):
                await host.create(f"vol-{i}", 1000 * GB, "xfs")
                made.append(f"vol-{i}")
        assert info.value.message.startswith("the host's disk pool is full: making disk vol-")
        assert len(made) >= 1
        assert sorted(p.name for p in host.layout.disks_dir.iterdir()) == [f"{d}.img" for d in made]
        await host.delete(made[0])
        await host.create("vol-again", 1000 * GB, "xfs")  # room again once a disk is gone
        assert await host.disks() == {*made[1:], "vol-again"}

    asyncio.run(scenario())
