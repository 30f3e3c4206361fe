"""The VPC service's quotas: limits (defaults, per-account overrides) and describeQuota."""

from __future__ import annotations

from typing import Any

from podyard.domain.errors import NotFound
from podyard.domain.quotas import VPC_LIMITS, VpcResource
from podyard.domain.records import AccountRecord
from podyard.domain.specs.vpc import DescribeVpcQuotaQuery
from podyard.services.context import ServiceContext
from podyard.store import accounts, elastic_ips, security_groups, vpcs


def vpc_limit(ctx: ServiceContext, overrides: dict[str, int], resource: VpcResource) -> int:
    """An account's override, else the configured default, else podyard's default."""
    return overrides.get(resource, ctx.quota_defaults.get(resource, VPC_LIMITS[resource]))


def limit(ctx: ServiceContext, s: Any, account_id: str, region: str, resource: VpcResource) -> int:
    return vpc_limit(ctx, accounts.quota_overrides(s, account_id, region), resource)


def _count(s: Any, account_id: str, region: str, resource: VpcResource, parent: str | None) -> int:
    """What each create checks its quota against, counted the same way here."""
    if resource == VpcResource.VPC:
        return vpcs.count_vpcs(s, account_id, region)
    if resource == VpcResource.ELASTIC_IP:
        return elastic_ips.count(s, account_id, region)
    assert parent is not None  # the request model requires it for the other types
    if resource == VpcResource.SECURITY_GROUP_RULE:
        group = security_groups.get(s, account_id, region, parent)
        if group is None:
            raise NotFound(f"parentResourceId: security group {parent} not found")
        return len(group.rules)
    if vpcs.vpc_range(s, account_id, region, parent) is None:
        raise NotFound(f"parentResourceId: vpc {parent} not found")
    if resource == VpcResource.SUBNET:
        return vpcs.count_subnets(s, parent)
    return security_groups.count_in_vpc(s, parent)


def describe_quota(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeVpcQuotaQuery
) -> tuple[VpcResource, int, int]:
    """(type, limit, count)."""
    ctx.check_region(region)
    resource = VpcResource(q.type)
    with ctx.db.read() as s:
        used = _count(s, account.account_id, region, resource, q.parent_resource_id)
        return resource, limit(ctx, s, account.account_id, region, resource), used
