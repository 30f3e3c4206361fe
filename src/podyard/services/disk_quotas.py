"""The disk service's quotas: limits (defaults, per-account overrides) and describeQuota."""

from __future__ import annotations

from typing import Any

from podyard.domain.quotas import DISK_LIMITS, DiskResource, check_quota
from podyard.domain.records import AccountRecord
from podyard.domain.specs.disks import DescribeDiskQuotaQuery
from podyard.services.context import ServiceContext
from podyard.store import accounts, disks, snapshots


def limit(ctx: ServiceContext, s: Any, account_id: str, region: str, resource: DiskResource) -> int:
    """An account's override, else the configured default, else podyard's default."""
    overrides = accounts.quota_overrides(s, account_id, region)
    return overrides.get(resource, ctx.quota_defaults.get(resource, DISK_LIMITS[resource]))


def used(s: Any, account_id: str, region: str, resource: DiskResource) -> int:
    """What each create checks its quota against, counted the same way here."""
    if resource == DiskResource.DISK:
        return disks.count(s, account_id, region)
    return snapshots.count(s, account_id, region)


def check(ctx: ServiceContext, s: Any, account_id: str, region: str, resource: DiskResource, asked: int) -> None:
    check_quota(resource, limit(ctx, s, account_id, region, resource), used(s, account_id, region, resource), asked)


def describe_quota(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeDiskQuotaQuery
) -> tuple[int, int]:
    """(limit, used)."""
    ctx.check_region(region)
    resource = DiskResource(q.type)
    with ctx.db.read() as s:
        return limit(ctx, s, account.account_id, region, resource), used(s, account.account_id, region, resource)
