"""What createPods and deletePod do with cloud disks (a pod's ``volumes``).

createPods, in its own transaction: each volume is a new disk, one made from the
account's snapshot, or the account's available disk (``volumeId``) in the pod's zone,
attached to the pod (one pod at a time). New disks count in the disk quota and the
host's room; a failing create leaves none behind. Each pod's stored spec carries its
volumes as describePod shows them (``volumeId`` filled in).

deletePod: the pod's autoDelete disks go ``deleting`` with it (at once gone with no disk
part); the others stay attached until the pod is gone, then are available again
(``store/disks.release_pod``, from the reconciler's forget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from podyard.domain import disks
from podyard.domain.disks import DiskStatus
from podyard.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from podyard.domain.quotas import DiskResource
from podyard.domain.specs.pod import PodSpec, VolumeSpec
from podyard.services import disk_quotas, disk_space
from podyard.services.context import ServiceContext
from podyard.services.disks import check_maker, source_snapshot
from podyard.store import disks as disk_store
from podyard.store.disks import NewDisk


@dataclass(frozen=True)
class _Volume:
    """One volume of the pods, checked: the disk to attach, or the disk to make."""

    name: str
    shown: dict[str, Any]  # the pod's jdcloudDisk as describePod shows it, but its volumeId
    existing: str | None = None  # attach this disk
    reformat: bool = False
    disk_name: str = ""
    new_size_gb: int = 0  # make a disk of this size (0: an existing one)


@dataclass
class PodVolumes:
    """The volumes of a createPods, checked once for the batch; ``spec_of`` gives each pod
    its disks (inserted or attached) and its spec with them."""

    ctx: ServiceContext
    account_id: str
    region: str
    az: str
    volumes: list[_Volume] = field(default_factory=list)

    def spec_of(self, s: Any, pod_id: str, pod_spec: dict[str, Any], now: datetime) -> dict[str, Any]:
        if not self.volumes:
            return pod_spec
        at_once = self.ctx.disk_maker == "at_once"
        shown = []
        for v in self.volumes:
            if v.existing is not None:
                disk_store.attach(
                    s, v.existing, pod_id, v.name, now, fs_type=v.shown["fsType"],
                    auto_delete=bool(v.shown["autoDelete"]), reformat=v.reformat and not at_once,
                )  # fmt: skip
                disk_id = v.existing
            else:
                [disk_id] = disk_store.insert(
                    s,
                    [
                        NewDisk(
                            account_id=self.account_id,
                            region=self.region,
                            az=self.az,
                            name=v.disk_name,
                            description=None,
                            disk_type=v.shown["diskType"],
                            size_gb=v.new_size_gb,
                            iops=v.shown["iops"],
                            fs_type=v.shown["fsType"],
                            status=DiskStatus.IN_USE if at_once else DiskStatus.CREATING,
                            snapshot_id=v.shown["snapshotId"],
                            charge_mode="postpaid_by_duration",
                            pod_id=pod_id,
                            volume_name=v.name,
                            auto_delete=bool(v.shown["autoDelete"]),
                        )
                    ],
                    now,
                )
            shown.append({"name": v.name, "jdcloudDisk": {**v.shown, "volumeId": disk_id}})
        return {**pod_spec, "volumes": shown}


def _source(
    snapshot_id: str | None, disk_type: str, size_gb: int, fs_type: str, formatted: bool, iops: int | None,
    auto_delete: bool,
) -> dict[str, Any]:  # fmt: skip
    """The SDK's JDCloudVolumeSource, but its volumeId (known once the disk is inserted)."""
    return {
        "volumeId": None,
        "snapshotId": snapshot_id,
        "diskType": disk_type,
        "sizeGB": size_gb,
        "fsType": fs_type,
        "formatVolume": formatted,
        "iops": iops,
        "autoDelete": auto_delete,
    }


def _mismatch(where: str, holder: str, held: str, asked: str) -> InvalidArgument:
    return InvalidArgument(
        f"{where}.fsType: {holder} holds {held}; ask fsType {held} (or none), or set formatVolume true "
        f"to make a new {asked} filesystem (what it holds is lost)"
    )


def _existing(s: Any, p: PodVolumes, i: int, v: VolumeSpec) -> _Volume:
    jd, where = v.jdcloud_disk, f"podSpec.volumes[{i}].jdcloudDisk"
    assert jd.volume_id is not None
    d = disk_store.get(s, p.account_id, p.region, jd.volume_id, lock=True)
    if d is None:
        raise NotFound(f"{where}.volumeId: disk {jd.volume_id} not found")
    if d.pod_id is not None:
        raise FailedPrecondition(
            f"{where}.volumeId: disk {d.disk_id} is in use by pod {d.pod_id}; a disk is attached to one pod at a time"
        )
    if d.status != DiskStatus.AVAILABLE:
        raise FailedPrecondition(f"{where}.volumeId: disk {d.disk_id} is {d.status}; only an available disk attaches")
    if d.az != p.az:
        raise InvalidArgument(f"{where}.volumeId: disk {d.disk_id} is in {d.az}, the pod in {p.az}")
    fs = jd.fs_type or d.fs_type
    if fs != d.fs_type and not jd.format_volume:
        raise _mismatch(where, f"disk {d.disk_id}", d.fs_type, fs)
    shown = _source(d.snapshot_id, d.disk_type, d.size_gb, fs, bool(jd.format_volume), d.iops,
                    jd.auto_delete is True)  # fmt: skip
    return _Volume(v.name, shown, existing=d.disk_id, reformat=bool(jd.format_volume))


def _new(s: Any, p: PodVolumes, i: int, v: VolumeSpec) -> _Volume:
    jd, where = v.jdcloud_disk, f"podSpec.volumes[{i}].jdcloudDisk"
    assert jd.disk_type is not None  # the spec's rules
    size, fs = jd.size_gb, jd.fs_type or disks.DEFAULT_FS_TYPE
    if jd.snapshot_id:
        snap = source_snapshot(s, p.account_id, p.region, jd.snapshot_id, f"{where}.snapshotId")
        if size is not None and size < snap.size_gb:
            raise InvalidArgument(
                f"{where}.sizeGB: a disk made from {snap.snapshot_id} needs at least its {snap.size_gb} GB"
            )
        if size is None:
            size = snap.size_gb
            error = disks.size_error(jd.disk_type, size, disks.DATA_DISK_RULES)
            if error:
                raise InvalidArgument(f"{where}.sizeGB: the snapshot's {size} GB: {error}")
            error = disks.iops_error(jd.disk_type, size, jd.iops)
            if error:
                raise InvalidArgument(f"{where}.iops: {error}")
        if not jd.format_volume:
            if jd.fs_type and jd.fs_type != snap.fs_type:
                raise _mismatch(where, f"snapshot {snap.snapshot_id}", snap.fs_type, jd.fs_type)
            fs = snap.fs_type
    assert size is not None
    shown = _source(jd.snapshot_id, jd.disk_type, size, fs, bool(jd.format_volume),
                    disks.applied_iops(jd.disk_type, size, jd.iops), jd.auto_delete is not False)  # fmt: skip
    return _Volume(v.name, shown, disk_name=jd.name or v.name[: disks.NAME_MAX], new_size_gb=size)


def plan(
    s: Any, ctx: ServiceContext, account_id: str, region: str, spec: PodSpec, count: int, capacity: int | None
) -> PodVolumes:
    """Check every volume of ``count`` pods against the store (in createPods'
    transaction, the account locked): the disks exist and are free, the snapshots too, and
    the new disks fit the disk quota and the host's room."""
    p = PodVolumes(ctx, account_id, region, spec.az)
    if not spec.volumes:
        return p
    check_maker(ctx, "createPods with volumes")
    for i, v in enumerate(spec.volumes):
        p.volumes.append(_existing(s, p, i, v) if v.jdcloud_disk.volume_id else _new(s, p, i, v))
    new = [v for v in p.volumes if v.existing is None]
    if new:
        disk_quotas.check(ctx, s, account_id, region, DiskResource.DISK, count * len(new))
        disk_space.check_room(ctx, s, capacity, count * sum(v.new_size_gb for v in new), "podSpec.volumes")
    return p


def release_of_pod(s: Any, ctx: ServiceContext, pod_id: str) -> None:
    """deletePod: the pod's autoDelete disks go with it (``deleting``; gone at once with no
    disk part). The others stay attached until the pod is gone."""
    for d in disk_store.of_pod(s, pod_id):
        if not d.auto_delete or d.status == DiskStatus.DELETING:
            continue
        if ctx.disk_maker == "at_once":
            disk_store.delete_disk(s, d.disk_id)
        else:
            disk_store.set_status(s, d.disk_id, DiskStatus.DELETING)
