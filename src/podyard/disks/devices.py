"""What is attached and mounted on the host, read from the kernel: loop devices with
their backing files (losetup), mounts with their sources (/proc/self/mountinfo). The disk
part keeps no memory of its own of either, so a restart sees exactly what is there."""

from __future__ import annotations

import asyncio
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from podyard.disks.commands import run

_DELETED = " (deleted)"


@dataclass(frozen=True)
class Loop:
    device: str  # /dev/loopN
    backing: str  # the backing file's path, as the kernel reports it
    deleted: bool  # the backing file was removed while attached


@dataclass(frozen=True)
class Mount:
    target: str
    source: str
    fstype: str
    shared: bool  # in a peer group: mounts and unmounts below it reach its copies


async def loops() -> list[Loop]:
    """Every attached loop device (``losetup``: it also asks the devices themselves, and
    sees one whose /sys entry a setup cut short by a crash left incomplete)."""
    out = await run("losetup", "--list", "--json", "--output", "NAME,BACK-FILE")
    found = []
    for entry in json.loads(out or "{}").get("loopdevices", []):
        backing = (entry.get("back-file") or "").strip()
        deleted = backing.endswith(_DELETED)
        if deleted:
            backing = backing[: -len(_DELETED)]
        if backing:
            found.append(Loop(entry["name"], backing, deleted))
    return found


async def attach(image: Path) -> str:
    """A loop device over ``image``: the one already there, else a new one. losetup's
    --nooverlap takes its lock and reuses a device with the same backing file, so two
    callers never make two devices for one image."""
    out = await run("losetup", "--find", "--show", "--nooverlap", str(image), doing=f"attaching {image.name}")
    return out.strip()


def backing_of(device: str) -> str | None:
    """The file a loop device is over, as the kernel has it now (no subprocess); None if
    it is no loop device or not attached. A removed file ends in " (deleted)"."""
    try:
        return (Path("/sys/block") / Path(device).name / "loop" / "backing_file").read_text().rstrip("\n")
    except OSError:
        return None


def device_number(device: str) -> tuple[int, int]:
    """A block device's MAJ:MIN."""
    rdev = os.stat(device).st_rdev
    return os.major(rdev), os.minor(rdev)


async def detach(device: str, wait: float = 2.0) -> None:
    """Detach a loop device, and wait (up to ``wait`` seconds) until the kernel has let
    go of its backing file: it does that in the background, and the pool cannot be
    unmounted before. A device still mounted somewhere (a pod's bind mount) goes when
    that mount goes."""
    await run("losetup", "--detach", device, check=False)
    bound = Path("/sys/block") / Path(device).name / "loop" / "backing_file"
    deadline = asyncio.get_running_loop().time() + wait
    while bound.exists() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.005)


_ESCAPE = re.compile(r"\\([0-7]{3})")


def _unescape(field: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def mounts() -> list[Mount]:
    """The mounts of this process's mount namespace, in mount order."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            shared = any(f.startswith("shared:") for f in fields[6:sep])
            found.append(Mount(_unescape(fields[4]), _unescape(fields[sep + 2]), fields[sep + 1], shared))
    return found


def mounted_at(target: Path) -> list[Mount]:
    """The mounts stacked on ``target``, the topmost last."""
    t = str(target)
    return [m for m in mounts() if m.target == t]


async def unmount(target: Path, doing: str) -> None:
    """Unmount everything stacked on ``target``; thaws a frozen filesystem first."""
    while stacked := mounted_at(target):
        await run("fsfreeze", "--unfreeze", str(target), check=False)
        before = len(stacked)
        await run("umount", str(target), doing=doing)
        if len(mounted_at(target)) >= before:  # umount said yes but nothing went: do not spin
            break
