"""Security group use cases of the VPC service: create, describe, list, modify, delete a
group; add, modify and remove its rules.

Each change is one transaction on the group (held until it ends), checked whole before
anything is written: a request refused for one rule changes no rule. After a change the
network of the group's VPC is nudged to follow, and so are the pods that carry it.
"""

from __future__ import annotations

from typing import Any

from podyard.domain import security_groups as sg
from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from podyard.domain.ids import new_id
from podyard.domain.quotas import VpcResource, check_quota
from podyard.domain.records import AccountRecord, SecurityGroupRecord, SecurityGroupRuleRecord
from podyard.domain.specs.security_groups import (
    AddNetworkSecurityGroupRulesRequest,
    CreateNetworkSecurityGroupRequest,
    DescribeNetworkSecurityGroupsQuery,
    ModifyNetworkSecurityGroupRequest,
    ModifyNetworkSecurityGroupRulesRequest,
    RemoveNetworkSecurityGroupRulesRequest,
)
from podyard.services import vpc_quotas
from podyard.services.context import ServiceContext
from podyard.store import accounts, vpcs
from podyard.store import security_groups as groups
from podyard.store.security_groups import GroupFilter

DEFAULT_PAGE_SIZE = 20
ID = "networkSecurityGroupId"


def _group(s: Any, account: AccountRecord, region: str, group_id: str) -> SecurityGroupRecord:
    found = groups.get(s, account.account_id, region, group_id, lock=True)
    if found is None:
        raise NotFound(f"{ID}: security group {group_id} not found")
    return found


def _changed(ctx: ServiceContext, group: SecurityGroupRecord) -> None:
    """The VPC's rule set is rebuilt from the store; the pods themselves need no pass
    (a pass per pod that carries the group cost Podman seconds of CPU at 100 pods)."""
    ctx.nudge_vpc(group.vpc_id)


def _rule(r: SecurityGroupRuleRecord) -> sg.Rule:
    return sg.Rule(r.direction, r.protocol, r.address_prefix, r.from_port, r.to_port)


def create_network_security_group(
    ctx: ServiceContext, account: AccountRecord, region: str, req: CreateNetworkSecurityGroupRequest
) -> str:
    """A new group allows all egress (one visible rule) and no ingress."""
    ctx.check_region(region)
    group_id = new_id("sg")
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        if vpcs.vpc_range(s, account.account_id, region, req.vpc_id) is None:
            raise NotFound(f"vpcId: vpc {req.vpc_id} not found")
        limit = vpc_quotas.limit(ctx, s, account.account_id, region, VpcResource.SECURITY_GROUP)
        check_quota(VpcResource.SECURITY_GROUP, limit, groups.count_in_vpc(s, req.vpc_id), 1)
        groups.insert_group(
            s,
            group_id,
            account.account_id,
            region,
            req.vpc_id,
            req.network_security_group_name,
            req.description,
            [sg.allow_all_egress()],
            ctx.now(),
        )
    return group_id


def describe_network_security_group(
    ctx: ServiceContext, account: AccountRecord, region: str, group_id: str
) -> SecurityGroupRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = groups.get(s, account.account_id, region, group_id)
    if found is None:
        raise NotFound(f"{ID}: security group {group_id} not found")
    return found


def describe_network_security_groups(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeNetworkSecurityGroupsQuery
) -> tuple[list[SecurityGroupRecord], int]:
    ctx.check_region(region)
    values = q.filter_map()
    flt = GroupFilter(
        ids=values.get("networkSecurityGroupIds"),
        names=values.get("networkSecurityGroupNames"),
        vpc_ids=values.get("vpcId"),
    )
    number, size = q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE
    with ctx.db.read() as s:
        found, total = groups.page(s, account.account_id, region, flt, number, size)
    return found, total


def modify_network_security_group(
    ctx: ServiceContext, account: AccountRecord, region: str, group_id: str, req: ModifyNetworkSecurityGroupRequest
) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        group = _group(s, account, region, group_id)
        values: dict[str, Any] = {}
        name = req.network_security_group_name
        if name is not None and name != group.name:
            if group.is_default:
                raise FailedPrecondition(
                    f"networkSecurityGroupName: security group {group_id} is the default group of VPC "
                    f"{group.vpc_id}; it keeps its name"
                )
            values["name"] = name
        if req.description is not None:
            values["description"] = req.description
        groups.set_attributes(s, group_id, values)


def delete_network_security_group(ctx: ServiceContext, account: AccountRecord, region: str, group_id: str) -> None:
    """Refused for the default group, and while a pod's interface carries the group."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        group = _group(s, account, region, group_id)
        if group.is_default:
            raise FailedPrecondition(
                f"security group {group_id} is the default group of VPC {group.vpc_id}; it cannot be deleted"
            )
        using = groups.users(s, account.account_id, region, group_id)
        if using:
            raise FailedPrecondition(
                f"security group {group_id} is used by pod(s) {', '.join(using)}: delete them first"
            )
        groups.delete_group(s, group_id)
    _changed(ctx, group)


def _duplicates(rules: list[sg.Rule]) -> tuple[int, int] | None:
    seen: dict[sg.Rule, int] = {}
    for i, r in enumerate(rules):
        if r in seen:
            return seen[r], i
        seen[r] = i
    return None


def add_network_security_group_rules(
    ctx: ServiceContext, account: AccountRecord, region: str, group_id: str, req: AddNetworkSecurityGroupRulesRequest
) -> None:
    """All rules or none. A rule the group has already (same direction, protocol, prefix
    and ports) is a 409 naming it; the same rule twice in the request a 400."""
    ctx.check_region(region)
    field = "networkSecurityGroupRuleSpecs"
    new = [spec.rule() for spec in req.network_security_group_rule_specs]
    twice = _duplicates(new)
    if twice:
        raise InvalidArgument(f"{field}[{twice[1]}]: the same rule as {field}[{twice[0]}]")
    with ctx.db.write() as s:
        group = _group(s, account, region, group_id)
        existing = {_rule(r): r.rule_id for r in group.rules}
        for i, rule in enumerate(new):
            if rule in existing:
                raise AlreadyExists(f"{field}[{i}]: security group {group_id} has this rule already: {existing[rule]}")
        limit = vpc_quotas.limit(ctx, s, account.account_id, region, VpcResource.SECURITY_GROUP_RULE)
        check_quota(VpcResource.SECURITY_GROUP_RULE, limit, len(group.rules), len(new))
        groups.add_rules(
            s,
            group_id,
            [
                (rule, spec.description, spec.priority or sg.DEFAULT_PRIORITY)
                for rule, spec in zip(new, req.network_security_group_rule_specs, strict=True)
            ],
            ctx.now(),
        )
    _changed(ctx, group)


def modify_network_security_group_rules(
    ctx: ServiceContext,
    account: AccountRecord,
    region: str,
    group_id: str,
    req: ModifyNetworkSecurityGroupRulesRequest,
) -> None:
    """What a spec leaves out stays; the ports follow the (new) protocol: kept between TCP
    and UDP, 1-65535 when a protocol without ports becomes TCP or UDP, 0-0 the other way."""
    ctx.check_region(region)
    field = "modifySecurityGroupRuleSpecs"
    with ctx.db.write() as s:
        group = _group(s, account, region, group_id)
        by_id = {r.rule_id: r for r in group.rules}
        after = {r.rule_id: _rule(r) for r in group.rules}
        changes: list[tuple[str, dict[str, Any]]] = []
        for i, spec in enumerate(req.modify_security_group_rule_specs):
            old = by_id.get(spec.rule_id)
            if old is None:
                raise NotFound(f"{field}[{i}].ruleId: rule {spec.rule_id} not found in security group {group_id}")
            protocol = spec.protocol if spec.protocol is not None else old.protocol
            keep = old.protocol in sg.PORTED and protocol in sg.PORTED
            low = spec.from_port if spec.from_port is not None else (old.from_port if keep else None)
            high = spec.to_port if spec.to_port is not None else (old.to_port if keep else None)
            try:
                low, high = sg.ports(protocol, low, high)
            except ValueError as e:
                raise InvalidArgument(f"{field}[{i}].{e}") from None
            prefix = spec.address_prefix if spec.address_prefix is not None else old.address_prefix
            after[old.rule_id] = sg.Rule(old.direction, protocol, prefix, low, high)
            values: dict[str, Any] = {"protocol": protocol, "address_prefix": prefix, "from_port": low, "to_port": high}
            if spec.description is not None:
                values["description"] = spec.description
            if spec.priority is not None:
                values["priority"] = spec.priority
            changes.append((old.rule_id, values))
        seen: dict[sg.Rule, str] = {}
        for rule_id, rule in after.items():
            if rule in seen:
                raise AlreadyExists(f"{field}: rules {seen[rule]} and {rule_id} would be the same rule")
            seen[rule] = rule_id
        for rule_id, values in changes:
            groups.update_rule(s, group_id, rule_id, values)
    _changed(ctx, group)


def remove_network_security_group_rules(
    ctx: ServiceContext,
    account: AccountRecord,
    region: str,
    group_id: str,
    req: RemoveNetworkSecurityGroupRulesRequest,
) -> None:
    """All named rules or none: an id the group does not have is a 404."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        group = _group(s, account, region, group_id)
        have = {r.rule_id for r in group.rules}
        for i, rule_id in enumerate(req.rule_ids):
            if rule_id not in have:
                raise NotFound(f"ruleIds[{i}]: rule {rule_id} not found in security group {group_id}")
        groups.remove_rules(s, group_id, req.rule_ids)
    _changed(ctx, group)
