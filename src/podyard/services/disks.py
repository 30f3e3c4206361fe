"""Disk use cases of the disk service: createDisks, describeDisk(s), deleteDisk.

A new disk is ``creating`` until control has made it (``available``); a deleted one is
``deleting`` until control has removed it, then gone (``ctx.disk_maker`` "control"). With
no disk part (the fake runtime, "at_once") the store's word is final at once. Another
account's disk answers exactly as an unknown one: 404 naming the field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from podyard.domain import disks
from podyard.domain.disks import DiskStatus
from podyard.domain.elastic_ips import check_can_buy
from podyard.domain.errors import FailedPrecondition, InvalidArgument, NotFound, NotImplementedAction
from podyard.domain.quotas import DiskResource
from podyard.domain.records import AccountRecord, DiskRecord, SnapshotRecord
from podyard.domain.specs.disks import CreateDisksRequest, DescribeDisksQuery
from podyard.domain.specs.wire import WireModel
from podyard.services import disk_quotas, disk_space
from podyard.services.context import ServiceContext
from podyard.store import accounts, snapshots
from podyard.store import disks as disk_store
from podyard.store.disks import DiskFilter, NewDisk

DEFAULT_PAGE_SIZE = 20
ID = "diskId"
INSTANCE_TYPE = "pod"  # the only kind of instance a disk is attached to here


def check_maker(ctx: ServiceContext, action: str) -> None:
    if ctx.disk_maker is None:
        raise NotImplementedAction(
            f"{action}: this podyard makes no cloud disks yet (its disk part is not wired into the reconciler)"
        )


def request_hash(req: WireModel) -> str:
    body = req.model_dump(by_alias=True, exclude_none=True, mode="json")
    body.pop("clientToken", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def seen_token(s: Any, account_id: str, region: str, action: str, token: str, req: WireModel) -> list[str] | None:
    """The ids a request with this client token made already (the same request), or None."""
    seen = disk_store.client_token(s, account_id, region, action, token)
    if seen is None:
        return None
    if seen.request_hash != request_hash(req):
        raise InvalidArgument(f"clientToken: {token!r} was already used with a different request")
    return list(seen.resource_ids)


def source_snapshot(s: Any, account_id: str, region: str, snapshot_id: str, field: str) -> SnapshotRecord:
    """The account's snapshot a new disk is made from (locked): it exists and is available."""
    snap = snapshots.get(s, account_id, region, snapshot_id, lock=True)
    if snap is None:
        raise NotFound(f"{field}: snapshot {snapshot_id} not found")
    if snap.status != disks.SnapshotStatus.AVAILABLE:
        raise FailedPrecondition(
            f"{field}: snapshot {snap.snapshot_id} is {snap.status}; disks are made from an available snapshot"
        )
    return snap


def check_standing(ctx: ServiceContext, s: Any, account: AccountRecord, action: str) -> None:
    """As for pods and elastic IPs: nothing bought without real-name verification or in arrears."""
    standing = accounts.by_access_key(s, ctx.secret_box, account.access_key) or account
    check_can_buy(standing.verified, standing.in_arrears, action)


def create_disks(ctx: ServiceContext, account: AccountRecord, region: str, req: CreateDisksRequest) -> list[str]:
    """All ``maxCount`` disks or none (quota, room), named ``name-1``, ``name-2``, ..."""
    ctx.check_region(region)
    check_maker(ctx, "createDisks")
    spec = req.disk_spec
    if spec.az not in ctx.region.azs:
        raise InvalidArgument(
            f"diskSpec.az: {spec.az!r} is not an availability zone of {region}: {', '.join(ctx.region.azs)}"
        )
    capacity = disk_space.capacity_now(ctx)
    now = ctx.now()
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        check_standing(ctx, s, account, "createDisks")
        done = seen_token(s, account.account_id, region, "createDisks", req.client_token, req)
        if done is not None:
            return done
        fs_type = disks.DEFAULT_FS_TYPE
        if spec.snapshot_id:
            snap = source_snapshot(s, account.account_id, region, spec.snapshot_id, "diskSpec.snapshotId")
            if spec.disk_size_gb < snap.size_gb:
                raise InvalidArgument(
                    f"diskSpec.diskSizeGB: a disk made from snapshot {snap.snapshot_id} needs at least its "
                    f"{snap.size_gb} GB"
                )
            fs_type = snap.fs_type
        disk_quotas.check(ctx, s, account.account_id, region, DiskResource.DISK, req.max_count)
        disk_space.check_room(ctx, s, capacity, spec.disk_size_gb * req.max_count, "diskSpec.diskSizeGB")
        status = DiskStatus.AVAILABLE if ctx.disk_maker == "at_once" else DiskStatus.CREATING
        wanted = [
            NewDisk(
                account_id=account.account_id,
                region=region,
                az=spec.az,
                name=name,
                description=spec.description,
                disk_type=spec.disk_type,
                size_gb=spec.disk_size_gb,
                iops=disks.applied_iops(spec.disk_type, spec.disk_size_gb, spec.iops),
                fs_type=fs_type,
                status=status,
                snapshot_id=spec.snapshot_id,
                charge_mode=(spec.charge.charge_mode if spec.charge else None) or "postpaid_by_duration",
                tags=tuple((t.key, t.value) for t in req.user_tags or []),
            )
            for name in req.names()
        ]
        ids = disk_store.insert(s, wanted, now)
        disk_store.remember_client_token(
            s, account.account_id, region, "createDisks", req.client_token, request_hash(req), ids, now
        )
    ctx.nudge_disks()
    return ids


def describe_disk(ctx: ServiceContext, account: AccountRecord, region: str, disk_id: str) -> DiskRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = disk_store.get(s, account.account_id, region, disk_id)
    if found is None:
        raise NotFound(f"{ID}: disk {disk_id} not found")
    return found


def _filter(q: DescribeDisksQuery) -> DiskFilter | None:
    """The docs' filters as a DiskFilter; None when no disk here can match (a vm or nc
    instance, multi-attach, encryption, a snapshot policy)."""
    values = q.filter_map()
    if "true" in values.get("multiAttach", ()) or "true" in values.get("encrypted", ()) or "policyId" in values:
        return None
    attached = None
    if "instanceType" in values:
        if INSTANCE_TYPE not in values["instanceType"]:
            return None
        attached = True
    name = values.get("name")
    return DiskFilter(
        ids=values.get("diskId"),
        types=values.get("diskType"),
        pod_ids=values.get("instanceId"),
        attached=attached,
        statuses=values.get("status"),
        azs=values.get("az"),
        name_like=name[0] if name else None,
        tags=tuple((t.key, tuple(t.values or ())) for t in q.tags or []),
    )


def describe_disks(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeDisksQuery
) -> tuple[list[DiskRecord], int]:
    ctx.check_region(region)
    flt = _filter(q)
    if flt is None:
        return [], 0
    with ctx.db.read() as s:
        return disk_store.page(s, account.account_id, region, flt, q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE)


def delete_disk(ctx: ServiceContext, account: AccountRecord, region: str, disk_id: str) -> None:
    """Refused while attached (naming the pod), while being made or removed, and while a
    snapshot of it is being taken. Its snapshots stay."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        found = disk_store.get(s, account.account_id, region, disk_id, lock=True)
        if found is None:
            raise NotFound(f"{ID}: disk {disk_id} not found")
        disks.check_disk_deletable(disk_id, found.status, found.pod_id)
        taking = snapshots.being_taken_of(s, disk_id)
        if taking:
            raise FailedPrecondition(
                f"{ID}: snapshot {', '.join(taking)} of disk {disk_id} is being taken; delete the disk once it is"
            )
        if ctx.disk_maker == "at_once":
            disk_store.delete_disk(s, disk_id)
        else:
            disk_store.set_status(s, disk_id, DiskStatus.DELETING)
    ctx.nudge_disks()
