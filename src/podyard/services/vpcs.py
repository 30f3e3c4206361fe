"""VPC use cases: create, describe, list, modify, delete.

A VPC is deleted only when empty, and the account's default VPC never is (it holds
the default subnet and security group every account starts with).
"""

from __future__ import annotations

from podyard.domain.errors import FailedPrecondition, NotFound
from podyard.domain.quotas import VpcResource, check_quota
from podyard.domain.records import AccountRecord, VpcRecord
from podyard.domain.specs.vpc import CreateVpcRequest, ModifyVpcRequest
from podyard.domain.vpcs import VpcFilter
from podyard.services import vpc_quotas
from podyard.services.context import ServiceContext
from podyard.store import accounts, vpcs

NAMED = 5  # a refusal names this many of the resources in the way


def named(ids: list[str]) -> str:
    more = f" and {len(ids) - NAMED} more" if len(ids) > NAMED else ""
    return ", ".join(ids[:NAMED]) + more


def create_vpc(ctx: ServiceContext, account: AccountRecord, region: str, req: CreateVpcRequest) -> str:
    ctx.check_region(region)
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        check_quota(
            VpcResource.VPC,
            vpc_quotas.limit(ctx, s, account.account_id, region, VpcResource.VPC),
            vpcs.count_vpcs(s, account.account_id, region),
            1,
        )
        return vpcs.add_vpc(s, account.account_id, region, req.vpc_name, req.address_prefix, req.description, ctx.now())


def describe_vpc(ctx: ServiceContext, account: AccountRecord, region: str, vpc_id: str) -> VpcRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = vpcs.vpc(s, account.account_id, region, vpc_id)
    if found is None:
        raise NotFound(f"vpcId: vpc {vpc_id} not found")
    return found


def describe_vpcs(
    ctx: ServiceContext, account: AccountRecord, region: str, number: int, size: int, flt: VpcFilter
) -> tuple[list[VpcRecord], int]:
    ctx.check_region(region)
    if flt.nothing:
        return [], 0
    with ctx.db.read() as s:
        return vpcs.vpc_page(s, account.account_id, region, flt, number, size)


def modify_vpc(ctx: ServiceContext, account: AccountRecord, region: str, vpc_id: str, req: ModifyVpcRequest) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        if vpcs.vpc_range(s, account.account_id, region, vpc_id) is None:
            raise NotFound(f"vpcId: vpc {vpc_id} not found")
        vpcs.update_vpc(s, vpc_id, req.vpc_name, req.description, lift_range=req.address_prefix == "")


def delete_vpc(ctx: ServiceContext, account: AccountRecord, region: str, vpc_id: str) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        found = vpcs.vpc(s, account.account_id, region, vpc_id)
        if found is None:
            raise NotFound(f"vpcId: vpc {vpc_id} not found")
        if found.is_default:
            raise FailedPrecondition(
                f"vpc {vpc_id} is the account's default VPC, with its default subnet and security group: "
                "podyard keeps it"
            )
        if found.subnets:
            ids = [x.subnet_id for x in found.subnets]
            raise FailedPrecondition(f"vpc {vpc_id} still has subnet(s) {named(ids)}: delete them first")
        groups = vpcs.security_group_ids(s, vpc_id)
        if groups:
            raise FailedPrecondition(f"vpc {vpc_id} still has security group(s) {named(groups)}: delete them first")
        vpcs.remove_vpc(s, vpc_id)
    ctx.nudge_vpc(vpc_id)
