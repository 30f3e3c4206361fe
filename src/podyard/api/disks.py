"""Handlers of the disk service's disk, snapshot and quota actions: decode, call the use
case, render (``api/disk_views.py``)."""

from __future__ import annotations

from typing import Any

from podyard.api import disk_views as views
from podyard.api.call import Call
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.disks import (
    CreateDisksRequest,
    CreateSnapshotRequest,
    DeleteDiskQuery,
    DescribeDiskQuotaQuery,
    DescribeDisksQuery,
    DescribeSnapshotsQuery,
)
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.services import disk_quotas, disks, snapshots


async def create_disks(call: Call) -> Any:
    req = parse_body(CreateDisksRequest, call.body)
    return {"diskIds": await call.run(disks.create_disks, call.account, call.region, req)}


async def describe_disk(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(disks.describe_disk, call.account, call.region, call.path["diskId"])
    return {"disk": views.disk(found, call.account.in_arrears, call.ctx.now())}


async def describe_disks(call: Call) -> Any:
    q = parse_query(DescribeDisksQuery, call.query)
    found, total = await call.read(disks.describe_disks, call.account, call.region, q)
    now = call.ctx.now()
    return {"disks": [views.disk(d, call.account.in_arrears, now) for d in found], "totalCount": total}


async def delete_disk(call: Call) -> Any:
    parse_query(DeleteDiskQuery, call.query)
    await call.run(disks.delete_disk, call.account, call.region, call.path["diskId"])


async def create_snapshot(call: Call) -> Any:
    req = parse_body(CreateSnapshotRequest, call.body)
    return {"snapshotId": await call.run(snapshots.create_snapshot, call.account, call.region, req)}


async def describe_snapshot(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(snapshots.describe_snapshot, call.account, call.region, call.path["snapshotId"])
    return {"snapshot": views.snapshot(found)}


async def describe_snapshots(call: Call) -> Any:
    q = parse_query(DescribeSnapshotsQuery, call.query)
    found, total = await call.read(snapshots.describe_snapshots, call.account, call.region, q)
    return {"snapshots": [views.snapshot(s) for s in found], "totalCount": total}


async def delete_snapshot(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(snapshots.delete_snapshot, call.account, call.region, call.path["snapshotId"])


async def describe_quota(call: Call) -> Any:
    q = parse_query(DescribeDiskQuotaQuery, call.query)
    limit, used = await call.run(disk_quotas.describe_quota, call.account, call.region, q)
    return {"quota": {"limit": limit, "used": used}}
