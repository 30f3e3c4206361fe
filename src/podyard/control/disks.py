"""Cloud disks made real: the disk part (podyard.disks) follows the store.

A worker makes the disks and takes the snapshots the services asked for (``creating``),
formats the detached disks marked for it and removes the deleted disks and snapshots,
whenever a service nudges it. A pod's pass asks ``volumes`` before it creates the pod:
its new disks made there and then (no hand-off to the worker), formatted if asked,
mounted: the host directories its containers bind. It asks ``attach`` before any of its
containers starts: every disk mounted again (after a reboot too) and owned by the pod's
user-namespace range, each ``cloud`` system disk holding its container's writable layer;
then ``throttle`` puts the iops limits on the pod's cgroups. ``release`` unmounts the
disks when the pod is gone. Without a disk part (the fake runtime) every call is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path

from podyard import faults
from podyard.control.backoff import Backoff
from podyard.control.failures import PermanentFailure
from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost, FsType, Owner
from podyard.domain.disks import GB, DiskStatus
from podyard.domain.records import DiskRecord, PodRecord
from podyard.runtime.protocol import PodStorage, Runtime, RuntimeFailure
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)

LAYER_PREFIX = "sys-"


def layer_key(pod_id: str, generation: int, container: str) -> str:
    """The disk that holds a container's writable layer (its cloud system disk)."""
    return f"{LAYER_PREFIX}{pod_id}-g{generation}-{container}"


def system_disks(pod: PodRecord) -> dict[str, int]:
    """The pod's containers with a cloud system disk: name -> size in bytes."""
    sized = {}
    for c in pod.containers:
        disk = c.spec.get("systemDisk") or {}
        if disk.get("category") != "local" and disk.get("sizeGB"):
            sized[c.name] = int(disk["sizeGB"]) * GB
    return sized


class PodDisks:
    def __init__(self, store: ObservedStore, runtime: Runtime, host: DiskHost | None,
                 nudge_pod: Callable[[str, float], None]) -> None:  # fmt: skip
        self._store = store
        self._runtime = runtime
        self._host = host
        self._nudge_pod = nudge_pod
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._retries = Backoff(0.5, 30.0)

    # -- a pod's disks --

    async def volumes(self, pod: PodRecord) -> dict[str, str] | None:
        """The host directory of each of the pod's volumes, by name: each disk made,
        formatted if asked, and mounted (None: no disk part, nothing is mounted). A disk
        that cannot be made is permanent: the pod is in error."""
        if self._host is None:
            return None
        disks = await self._disks_of(pod)
        for d in disks:
            # The pod's new disks are made here, not left to the worker: one pass, no hand-off.
            made = d.status != DiskStatus.CREATING or await self._make(d)
            if d.status == DiskStatus.ERROR_CREATE or not made:
                raise PermanentFailure("DiskFailed", f"the pod's disk {d.disk_id} ({d.volume_name}) could not be made")
        found = {}
        for d in disks:
            if d.format_pending:
                await self._host.format(d.disk_id, _fs(d))
                await self._store.db.run(self._store.disk_formatted, d.disk_id)
            found[str(d.volume_name)] = str(await self._host.ensure_mounted(d.disk_id))
        return found

    async def attach(self, pod: PodRecord) -> None:
        """Before a container of the pod starts: its disks mounted and owned by its range,
        its cloud system disks holding their layers."""
        if self._host is None:
            return
        try:
            await self._attach(pod, self._host)
        except DiskFailure as e:  # retried by the pod's pass, as any runtime failure
            raise RuntimeFailure(f"mounting the pod's disks: {e.message}", reason="DiskError") from e

    async def _attach(self, pod: PodRecord, host: DiskHost) -> None:
        sized = system_disks(pod)
        disks = await self._disks_of(pod)
        if not disks and not sized:
            return
        storage = await self._storage(pod)
        owner = Owner(*storage.id_range) if storage.id_range else None
        for d in disks:
            await host.ensure_mounted(d.disk_id, owner)
            faults.point("disks.mounted")
        for name, size in sized.items():
            layer = storage.layers.get(name)
            if layer is None:
                raise DiskFailure(f"container {name} has no writable layer to put on its system disk")
            await host.hold_layer(layer_key(pod.pod_id, pod.generation, name), Path(layer), size)

    async def throttle(self, pod: PodRecord) -> None:
        """iops limits of the pod's disks on its cgroup and its containers' (after they start)."""
        if self._host is None:
            return
        disks = [d for d in await self._disks_of(pod) if d.iops]
        if not disks:
            return
        storage = await self._storage(pod)
        if storage.cgroup is None:
            return
        for d in disks:
            try:
                await self._host.throttle(d.disk_id, storage.cgroup, d.iops, d.iops)
            except DiskFailure as e:
                log.warning("pod %s: no iops limit on disk %s: %s", pod.pod_id, d.disk_id, e.message)

    async def _disks_of(self, pod: PodRecord) -> list[DiskRecord]:
        # A pod's disks are its volumes, all given at createPods: without any, no store read.
        if not pod.spec.get("volumes"):
            return []
        return await self._store.db.run(self._store.disks_of_pod, pod.pod_id)

    async def _storage(self, pod: PodRecord) -> PodStorage:
        storage = await self._runtime.storage(pod.pod_id)
        if storage is None:
            raise DiskFailure(f"pod {pod.pod_id} is not in the runtime")
        return storage

    async def release(self, pod: PodRecord) -> None:
        """The pod is gone from the runtime: its disks unmounted (they stay, for the worker
        to remove or another pod to mount), its system disks removed."""
        if self._host is None:
            return
        for d in await self._disks_of(pod):
            await self._host.unmount(d.disk_id)
        await self.drop_layers(pod, pod.generation)

    async def drop_layers(self, pod: PodRecord, generation: int) -> None:
        """The system disks of one generation's containers, removed (the containers are)."""
        if self._host is None:
            return
        for name in system_disks(pod):
            await self._host.drop_layer(layer_key(pod.pod_id, generation, name))

    # -- the worker: disks and snapshots to make and remove --

    def start(self) -> None:
        if self._host is None:
            return
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._worker = asyncio.create_task(self._follow(), name="disks")
        self.nudge()

    async def stop(self) -> None:
        if self._worker:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    def nudge(self) -> None:
        """Look for disks and snapshots to make or remove (thread-safe)."""
        if self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _follow(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.work()
                self._retries.succeeded("all")
            except Exception:
                loop = asyncio.get_running_loop()
                delay = self._retries.failed("all", loop.time()) - loop.time()
                log.exception("the disk worker failed; retrying in %.1f s", delay)
                loop.call_later(delay, self.nudge)

    async def work(self) -> None:
        """One round: every snapshot to take, disk to make, format or remove, snapshot to
        remove. A disk's own failure marks it (error_create, error_delete); the host's
        (DiskFailure of the pool) retries the round."""
        assert self._host is not None
        st = self._store
        for snap in await st.db.run(st.snapshots_to_take):
            await self._step(self._host.snapshot(snap.disk_id, snap.snapshot_id),
                             st.snapshot_taken, st.snapshot_failed, snap.snapshot_id)  # fmt: skip
        for d in await st.db.run(st.disks_to_make):
            await self._make(d)
            if d.pod_id:
                self._nudge_pod(d.pod_id, 0.0)
        for d in await st.db.run(st.disks_to_format):
            if d.pod_id is None:  # an attached one is formatted by its pod's pass, before it mounts it
                await self._step(self._host.format(d.disk_id, _fs(d)), st.disk_formatted, None, d.disk_id)
        for d in await st.db.run(st.disks_to_remove):
            await self._step(self._host.delete(d.disk_id), st.disk_removed, st.disk_failed, d.disk_id)
        for snap in await st.db.run(st.snapshots_to_remove):
            await self._step(self._host.delete_snapshot(snap.snapshot_id),
                             st.snapshot_removed, st.snapshot_failed, snap.snapshot_id)  # fmt: skip

    async def _make(self, d: DiskRecord) -> bool:
        """A creating disk made (its image, formatted or copied from its snapshot) and
        recorded so; False if that failed for good (``error_create``)."""
        assert self._host is not None
        st = self._store
        made = await self._step(self._host.create(d.disk_id, d.size_gb * GB, _fs(d), snapshot_id=d.snapshot_id),
                                st.disk_made, st.disk_failed, d.disk_id)  # fmt: skip
        if made:
            faults.point("disks.made")
        return made

    async def _step(self, doing: Awaitable[None], done: Callable[[str], object],
                    failed: Callable[[str], object] | None, item_id: str) -> bool:  # fmt: skip
        """Await ``doing`` and record ``done``. A DiskFailure records ``failed``, or with
        none (a step worth trying again) plans another round; the round goes on."""
        try:
            await doing
        except DiskFailure as e:
            log.error("%s: %s", item_id, e.message)
            if failed is None:
                loop = asyncio.get_running_loop()
                loop.call_later(self._retries.failed(item_id, loop.time()) - loop.time(), self.nudge)
            else:
                await self._store.db.run(failed, item_id)
            return False
        self._retries.succeeded(item_id)
        await self._store.db.run(done, item_id)
        return True

    async def adopt(self) -> None:
        """After a start of podyard: what a crash or a reboot left, set right. The disks of
        pods are mounted again by their passes; everything else of this instance that the
        store does not know is unmounted, detached and removed."""
        if self._host is None:
            return
        wanted = await self._store.db.run(self._store.disk_inventory)
        # The layers of the generation asked for, and of the one that may still run (a
        # rebuild not yet carried out): a running container's layer cannot be unmounted.
        layers = {
            layer_key(p.pod_id, gen, name)
            for p in wanted.pods
            for gen in {p.generation, p.materialized_generation or p.generation}
            for name in system_disks(p)
        }
        try:
            swept = await self._host.sweep(
                wanted.attached | layers, disks=wanted.disks | layers, snapshots=wanted.snapshots
            )
        except DiskFailure as e:  # the pods' passes mount what they need; the next start sweeps again
            log.error("disks: sweeping what no stored disk owns failed: %s", e.message)
            return
        if swept.unmounted or swept.detached or swept.removed:
            log.info("disks: removed what no stored disk owns: %s", swept)


def _fs(d: DiskRecord) -> FsType:
    return "ext4" if d.fs_type == "ext4" else "xfs"
