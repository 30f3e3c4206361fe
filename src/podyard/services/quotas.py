"""describeQuota: an account's limit and use of pods, containers and secrets in a region."""

from __future__ import annotations

from podyard.domain.quotas import ResourceType
from podyard.domain.records import AccountRecord
from podyard.services.context import ServiceContext
from podyard.store import accounts, pods, secrets


def limit_of(ctx: ServiceContext, overrides: dict[str, int], resource: ResourceType) -> int:
    return overrides.get(resource, ctx.quota_defaults[resource])


def describe_quota(ctx: ServiceContext, account: AccountRecord, region: str, resource: ResourceType) -> tuple[int, int]:
    """(limit, used)."""
    ctx.check_region(region)
    with ctx.db.read() as s:
        overrides = accounts.quota_overrides(s, account.account_id, region)
        if resource == ResourceType.SECRET:
            used = secrets.count(s, account.account_id, region)
        else:
            used_pods, used_containers = pods.usage(s, account.account_id, region)
            used = used_pods if resource == ResourceType.POD else used_containers
    return limit_of(ctx, overrides, resource), used
