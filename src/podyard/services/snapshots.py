"""Snapshot use cases of the disk service: createSnapshot, describeSnapshot(s),
deleteSnapshot.

A snapshot is taken of an available or in-use disk; it is ``creating`` until control
has copied the disk, then ``available``, and outlives the disk. Deleted, it is
``deleting`` until control has removed it (``ctx.disk_maker`` "control"); with no disk
part ("at_once") both happen at once. Another account's snapshot is a 404.
"""

from __future__ import annotations

from podyard.domain import disks
from podyard.domain.disks import SnapshotStatus
from podyard.domain.errors import FailedPrecondition, NotFound
from podyard.domain.quotas import DiskResource
from podyard.domain.records import AccountRecord, SnapshotRecord
from podyard.domain.specs.disks import CreateSnapshotRequest, DescribeSnapshotsQuery
from podyard.services import disk_quotas
from podyard.services.context import ServiceContext
from podyard.services.disks import DEFAULT_PAGE_SIZE, check_maker, check_standing, request_hash, seen_token
from podyard.store import accounts, snapshots
from podyard.store import disks as disk_store
from podyard.store.snapshots import SnapshotFilter

ID = "snapshotId"


def create_snapshot(ctx: ServiceContext, account: AccountRecord, region: str, req: CreateSnapshotRequest) -> str:
    ctx.check_region(region)
    check_maker(ctx, "createSnapshot")
    spec = req.snapshot_spec
    now = ctx.now()
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        check_standing(ctx, s, account, "createSnapshot")
        done = seen_token(s, account.account_id, region, "createSnapshot", req.client_token, req)
        if done is not None:
            return done[0]
        disk = disk_store.get(s, account.account_id, region, spec.disk_id, lock=True)
        if disk is None:
            raise NotFound(f"snapshotSpec.diskId: disk {spec.disk_id} not found")
        disks.check_snapshot_source(disk.disk_id, disk.status)
        disk_quotas.check(ctx, s, account.account_id, region, DiskResource.SNAPSHOT, 1)
        status = SnapshotStatus.AVAILABLE if ctx.disk_maker == "at_once" else SnapshotStatus.CREATING
        snapshot_id = snapshots.insert(
            s, account.account_id, region, disk.disk_id, spec.name, spec.description, disk.size_gb, disk.fs_type,
            status, now,
        )  # fmt: skip
        disk_store.remember_client_token(
            s, account.account_id, region, "createSnapshot", req.client_token, request_hash(req), [snapshot_id], now
        )
    ctx.nudge_disks()
    return snapshot_id


def describe_snapshot(ctx: ServiceContext, account: AccountRecord, region: str, snapshot_id: str) -> SnapshotRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = snapshots.get(s, account.account_id, region, snapshot_id)
    if found is None:
        raise NotFound(f"{ID}: snapshot {snapshot_id} not found")
    return found


def describe_snapshots(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeSnapshotsQuery
) -> tuple[list[SnapshotRecord], int]:
    """The account's own snapshots (``snapshotSource`` private, the default); none are
    shared with it here (others, shared)."""
    ctx.check_region(region)
    values = q.filter_map()
    if q.snapshot_source not in (None, "private"):
        return [], 0
    name = values.get("name")
    flt = SnapshotFilter(
        ids=values.get("snapshotId"),
        disk_ids=values.get("diskId"),
        statuses=values.get("status"),
        name_like=name[0] if name else None,
    )
    with ctx.db.read() as s:
        return snapshots.page(s, account.account_id, region, flt, q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE)


def delete_snapshot(ctx: ServiceContext, account: AccountRecord, region: str, snapshot_id: str) -> None:
    """Available or in error (the docs); refused while a disk is being made from it."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        found = snapshots.get(s, account.account_id, region, snapshot_id, lock=True)
        if found is None:
            raise NotFound(f"{ID}: snapshot {snapshot_id} not found")
        disks.check_snapshot_deletable(snapshot_id, found.status)
        making = disk_store.being_made_from(s, snapshot_id)
        if making:
            raise FailedPrecondition(
                f"{ID}: disk {', '.join(making)} is being made from snapshot {snapshot_id}; delete it once made"
            )
        if ctx.disk_maker == "at_once":
            snapshots.delete_snapshot(s, snapshot_id)
        else:
            snapshots.set_status(s, snapshot_id, SnapshotStatus.DELETING)
    ctx.nudge_disks()
