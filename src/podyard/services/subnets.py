"""Subnet use cases: create (in the VPC's range, overlapping none of its subnets),
describe, list, modify, delete (only when no pod uses it)."""

from __future__ import annotations

from podyard.domain import vpcs as rules
from podyard.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from podyard.domain.quotas import VpcResource, check_quota
from podyard.domain.records import AccountRecord, SubnetDetailRecord
from podyard.domain.specs.vpc import CreateSubnetRequest, ModifySubnetRequest
from podyard.domain.vpcs import SubnetFilter
from podyard.services import vpc_quotas
from podyard.services.context import ServiceContext
from podyard.services.vpcs import named
from podyard.store import accounts, vpcs


def create_subnet(ctx: ServiceContext, account: AccountRecord, region: str, req: CreateSubnetRequest) -> str | None:
    """The new subnet's id; None for a dry run (everything checked, nothing made)."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        vpc_cidr = vpcs.vpc_range(s, account.account_id, region, req.vpc_id)
        if vpc_cidr is None:
            raise NotFound(f"vpcId: vpc {req.vpc_id} not found")
        siblings = vpcs.vpc_subnet_ranges(s, req.vpc_id)
        error = rules.subnet_placement_error(req.address_prefix, req.vpc_id, vpc_cidr or None, siblings)
        if error:
            raise InvalidArgument(f"addressPrefix: {error}")
        limit = vpc_quotas.limit(ctx, s, account.account_id, region, VpcResource.SUBNET)
        check_quota(VpcResource.SUBNET, limit, len(siblings), 1)
        if req.dry_run:
            return None
        subnet_id = vpcs.add_subnet(
            s, account.account_id, region, req.vpc_id, req.subnet_name, req.address_prefix, req.description, ctx.now()
        )
    ctx.nudge_vpc(req.vpc_id)
    return subnet_id


def describe_subnet(ctx: ServiceContext, account: AccountRecord, region: str, subnet_id: str) -> SubnetDetailRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = vpcs.subnet(s, account.account_id, region, subnet_id)
    if found is None:
        raise NotFound(f"subnetId: subnet {subnet_id} not found")
    return found


def describe_subnets(
    ctx: ServiceContext, account: AccountRecord, region: str, number: int, size: int, flt: SubnetFilter
) -> tuple[list[SubnetDetailRecord], int]:
    ctx.check_region(region)
    if flt.nothing:
        return [], 0
    with ctx.db.read() as s:
        return vpcs.subnet_page(s, account.account_id, region, flt, number, size)


def modify_subnet(
    ctx: ServiceContext, account: AccountRecord, region: str, subnet_id: str, req: ModifySubnetRequest
) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        if vpcs.subnet(s, account.account_id, region, subnet_id) is None:
            raise NotFound(f"subnetId: subnet {subnet_id} not found")
        vpcs.update_subnet(s, subnet_id, req.subnet_name, req.description)


def delete_subnet(ctx: ServiceContext, account: AccountRecord, region: str, subnet_id: str) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        # Serialized with createPods, which takes the same lock before it allocates addresses.
        accounts.lock_account(s, account.account_id)
        found = vpcs.subnet(s, account.account_id, region, subnet_id)
        if found is None:
            raise NotFound(f"subnetId: subnet {subnet_id} not found")
        if found.is_default:
            raise FailedPrecondition(
                f"subnet {subnet_id} is the account's default subnet (a block of the host's pool): podyard keeps it"
            )
        users = vpcs.subnet_users(s, subnet_id)
        if users:
            raise FailedPrecondition(
                f"subnet {subnet_id} is used by pod(s) {named(users)}: delete them first "
                "(a pod being deleted holds its address until it is gone)"
            )
        vpcs.remove_subnet(s, subnet_id)
    ctx.nudge_vpc(found.vpc_id)
