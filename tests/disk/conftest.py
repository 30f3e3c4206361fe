"""The disk ring: the disk part (podyard.disks) on this host's real loop devices, mkfs and
mounts, no Podman. Each test has a data directory of its own; its finalizer tears the
instance down and checks that no mount or loop device of that directory is left."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost

MiB = 1024**2
GB = 1024**3


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() != 0:
        needs_root = pytest.mark.skip(reason="the disk ring needs root (loop devices, mounts)")
        for item in items:
            if item.path.is_relative_to(Path(__file__).parent):
                item.add_marker(needs_root)


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


def loops_under(root: Path) -> dict[str, str]:
    """Loop devices whose backing file is under ``root`` (removed ones too): device → file."""
    out = sh("losetup", "--list", "--json", "--output", "NAME,BACK-FILE").stdout
    found = {}
    for entry in json.loads(out or "{}").get("loopdevices", []):
        backing = (entry.get("back-file") or "").removesuffix(" (deleted)")
        if backing.startswith(f"{root.resolve()}/"):
            found[entry["name"]] = backing
    return found


def loops_of(image: Path) -> list[str]:
    return [dev for dev, backing in loops_under(image.parent).items() if backing == str(image)]


def mounts_under(root: Path) -> list[str]:
    prefix = str(root.resolve())
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            target = line.split()[4].replace("\\040", " ")
            if target == prefix or target.startswith(f"{prefix}/"):
                found.append(target)
    return found


def mounted_at(target: Path) -> list[str]:
    """The sources of the mounts stacked on ``target``."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(target):
                found.append(fields[fields.index("-") + 2])
    return found


def real_bytes(path: Path) -> int:
    return os.stat(path).st_blocks * 512


def fs_size(target: Path) -> int:
    """What df says the filesystem holds."""
    out = sh("df", "--block-size=1", "--output=size", str(target)).stdout.split()
    return int(out[-1])


def kill_group(child: subprocess.Popen[str]) -> None:
    """SIGKILL a child started in a session of its own, and its children (losetup, mkfs,
    mount...), then wait until none is left, as systemd does with a service's cgroup before
    it starts it again: a grandchild killed in the middle of a system call (an attach)
    finishes that call first, and may not be reaped yet when the child is."""
    import signal

    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not _alive_in_group(child.pid):
            return
        time.sleep(0.005)
    raise AssertionError(f"processes of group {child.pid} outlived SIGKILL")


def _alive_in_group(pgid: int) -> bool:
    """Whether a process of the group still runs (zombies waiting for init do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def was_frozen(target: Path) -> bool:
    """Whether the filesystem was frozen (it is not, after)."""
    return sh("fsfreeze", "--unfreeze", str(target), check=False).returncode == 0


def reboot(root: Path) -> None:
    """What a host reboot does to an instance: every mount and loop device gone (the
    files stay)."""
    deadline = time.monotonic() + 10
    while mounts_under(root) or loops_under(root):  # disks, then the pool they are files of
        assert time.monotonic() < deadline, "could not unmount and detach everything"
        for target in reversed(mounts_under(root)):
            sh("umount", target, check=False)
        for device in loops_under(root):
            sh("losetup", "--detach", device, check=False)
        time.sleep(0.01)


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    d = (tmp_path / "data").resolve()
    yield d
    problem = None
    try:
        asyncio.run(DiskHost(d).teardown())
    except DiskFailure as e:
        problem = e.message
    left = mounts_under(d), loops_under(d)
    for target in reversed(left[0]):  # never leak into the next test, whatever failed
        sh("umount", "--lazy", target, check=False)
    for device in left[1]:
        sh("losetup", "--detach", device, check=False)
    assert problem is None, problem
    assert left == ([], {}), f"left on the host: {left}"
    assert not (d / "disks").exists()
