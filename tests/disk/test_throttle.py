"""An iops limit (ssd.io1) on a disk's loop device, for a pod's cgroup: direct I/O from a
process in a cgroup below it is held to the limit, and lifting it frees it (throttle.py
says what each cgroup version throttles)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from podyard.disks import throttle
from podyard.disks.host import DiskHost
from tests.disk.conftest import MiB


@pytest.fixture
def pod_cgroup() -> Iterator[tuple[throttle.Controller, str]]:
    """A pod's cgroup with a container's below it, removed after."""
    ctl = throttle.controller()
    if ctl is None:
        pytest.skip("this host has no block I/O controller")
    name = f"podyard-test-{uuid.uuid4().hex[:8]}"
    pod = ctl.root / name
    pod.mkdir()
    if ctl.version == 2:
        (pod / "cgroup.subtree_control").write_text("+io")
    (pod / "ctr").mkdir()
    yield ctl, f"/{name}"
    for d in (pod / "ctr", pod):
        d.rmdir()


def _timed_direct_writes(ctl: throttle.Controller, cgroup: str, target: Path, count: int) -> float:
    procs = ctl.path(f"{cgroup}/ctr") / "cgroup.procs"
    script = f"echo $$ > {procs} && exec dd if=/dev/zero of={target}/f bs=4k count={count} oflag=direct status=none"
    start = time.monotonic()
    subprocess.run(["sh", "-c", script], check=True, timeout=30)
    return time.monotonic() - start


def test_direct_io_of_a_pod_is_held_to_its_iops(data_dir: Path, pod_cgroup: tuple[throttle.Controller, str]) -> None:
    ctl, cgroup = pod_cgroup

    async def scenario(riops: int | None, wiops: int | None) -> tuple[Path, list[Path]]:
        host = DiskHost(data_dir)
        await host.create("vol-io1", 64 * MiB, "ext4")
        target = await host.ensure_mounted("vol-io1")
        return target, await host.throttle("vol-io1", cgroup, riops, wiops)

    target, written = asyncio.run(scenario(50, 50))
    if ctl.version == 1:  # not hierarchical: the pod's cgroup and each one below it
        assert written == [ctl.path(cgroup), ctl.path(f"{cgroup}/ctr")]
        rule = (ctl.path(f"{cgroup}/ctr") / "blkio.throttle.write_iops_device").read_text().split()
        dev = os.stat(target).st_dev
        assert rule == [f"{os.major(dev)}:{os.minor(dev)}", "50"]
    else:
        assert written == [ctl.path(cgroup)]
    assert _timed_direct_writes(ctl, cgroup, target, 25) > 0.3  # 25 writes at 50 a second

    asyncio.run(scenario(None, None))
    assert _timed_direct_writes(ctl, cgroup, target, 25) < 0.25
