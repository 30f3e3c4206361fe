"""iops limits on a disk (ssd.io1), in the kernel's block I/O controller, keyed by the
disk's loop device (MAJ:MIN).

cgroup v2 (an ``io`` controller): one ``io.max`` line on the pod's cgroup limits the pod
as a whole, and with v2's memory controller buffered writes too (writeback is charged to
the cgroup that dirtied the pages).

cgroup v1 (``blkio``; this project's machines: v1 controllers plus a unified mount that
holds no io controller): throttling is not hierarchical there, a limit on the pod's
cgroup does not reach its containers' cgroups. So the limit is written on the pod's
cgroup and on every cgroup below it, and each of them gets its own N: a pod of k
containers can reach k × N. v1 throttles the I/O the pod's processes submit themselves:
direct I/O, reads (buffered reads that miss the page cache too) and the writes of an
fsync; buffered writes flushed later by the kernel's writeback threads are charged to the
root cgroup and not throttled. Cgroups made after the call (a container added or
restarted) have no limit until it is applied again."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from podyard.disks.errors import DiskFailure

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Controller:
    version: int  # 1 (blkio) or 2 (io)
    root: Path  # the hierarchy's mount

    def path(self, cgroup: str) -> Path:
        """A cgroup's directory, given its path in the hierarchy (as /proc/PID/cgroup has it)."""
        p = (self.root / cgroup.lstrip("/")).resolve()
        if p != self.root and self.root not in p.parents:
            raise DiskFailure(f"{cgroup!r} is not a cgroup")
        return p


def controller(root: Path = CGROUP_ROOT) -> Controller | None:
    """The block I/O controller this host has, v2 first."""
    for v2 in (root, root / "unified"):
        try:
            if "io" in (v2 / "cgroup.controllers").read_text().split():
                return Controller(2, v2)
        except OSError:
            continue
    if (root / "blkio" / "blkio.throttle.read_iops_device").exists():
        return Controller(1, root / "blkio")
    return None


def cgroup_of(pid: int, ctl: Controller) -> str:
    """A process's cgroup in the controller's hierarchy (for the pod's: its infra process's
    parent)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        hid, controllers, path = line.split(":", 2)
        if (ctl.version == 2 and hid == "0") or (ctl.version == 1 and "blkio" in controllers.split(",")):
            return path
    raise DiskFailure(f"process {pid} is in no block I/O cgroup")


def apply(ctl: Controller, cgroup: str, device: tuple[int, int], riops: int | None, wiops: int | None) -> list[Path]:
    """Limit reads and writes per second on ``device`` for ``cgroup`` (None: no limit);
    the cgroup directories written. Blocking (cgroupfs writes)."""
    top = ctl.path(cgroup)
    if not top.is_dir():
        raise DiskFailure(f"cgroup {cgroup} does not exist")
    dev = f"{device[0]}:{device[1]}"
    if ctl.version == 2:
        (top / "io.max").write_text(f"{dev} riops={riops or 'max'} wiops={wiops or 'max'}\n")
        return [top]
    written = []
    for d, _, _ in os.walk(top):
        here = Path(d)
        (here / "blkio.throttle.read_iops_device").write_text(f"{dev} {riops or 0}\n")
        (here / "blkio.throttle.write_iops_device").write_text(f"{dev} {wiops or 0}\n")
        written.append(here)
    return written
