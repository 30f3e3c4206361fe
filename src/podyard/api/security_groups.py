"""Handlers of the VPC service's security group actions, and their renderings in the
shapes of the SDK's NetworkSecurityGroup and SecurityGroupRule models."""

from __future__ import annotations

from typing import Any

from podyard.api.call import Call
from podyard.domain import security_groups as sg
from podyard.domain.records import SecurityGroupRecord, SecurityGroupRuleRecord
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.security_groups import (
    AddNetworkSecurityGroupRulesRequest,
    CreateNetworkSecurityGroupRequest,
    DescribeNetworkSecurityGroupsQuery,
    ModifyNetworkSecurityGroupRequest,
    ModifyNetworkSecurityGroupRulesRequest,
    RemoveNetworkSecurityGroupRulesRequest,
)
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.domain.status import iso
from podyard.services import security_groups

ID = "networkSecurityGroupId"


def rule_view(r: SecurityGroupRuleRecord) -> dict[str, Any]:
    return {
        "ruleId": r.rule_id,
        "direction": r.direction,
        "ruleAction": sg.RULE_ACTION,
        "priority": r.priority,
        "protocol": r.protocol,
        "addressPrefixType": sg.PREFIX_TYPE,
        "addressPrefix": r.address_prefix,
        "ipVersion": 4,
        "fromPort": r.from_port,
        "toPort": r.to_port,
        "createdTime": iso(r.created_at),
        "description": r.description,
        "ruleType": "custom",
    }


def group_view(g: SecurityGroupRecord) -> dict[str, Any]:
    return {
        "networkSecurityGroupId": g.security_group_id,
        "networkSecurityGroupName": g.name,
        "description": g.description,
        "vpcId": g.vpc_id,
        "securityGroupRules": [rule_view(r) for r in g.rules],
        "createdTime": iso(g.created_at),
        "networkSecurityGroupType": "default" if g.is_default else "custom",
        "networkInterfaceIds": list(g.network_interface_ids),
    }


async def create_network_security_group(call: Call) -> Any:
    req = parse_body(CreateNetworkSecurityGroupRequest, call.body)
    group_id = await call.run(security_groups.create_network_security_group, call.account, call.region, req)
    return {"networkSecurityGroupId": group_id}


async def describe_network_security_group(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(security_groups.describe_network_security_group, call.account, call.region, call.path[ID])
    return {"networkSecurityGroup": group_view(found)}


async def describe_network_security_groups(call: Call) -> Any:
    q = parse_query(DescribeNetworkSecurityGroupsQuery, call.query)
    found, total = await call.read(security_groups.describe_network_security_groups, call.account, call.region, q)
    return {"networkSecurityGroups": [group_view(g) for g in found], "totalCount": total}


async def modify_network_security_group(call: Call) -> Any:
    req = parse_body(ModifyNetworkSecurityGroupRequest, call.body)
    await call.run(security_groups.modify_network_security_group, call.account, call.region, call.path[ID], req)


async def delete_network_security_group(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(security_groups.delete_network_security_group, call.account, call.region, call.path[ID])


async def add_network_security_group_rules(call: Call) -> Any:
    req = parse_body(AddNetworkSecurityGroupRulesRequest, call.body)
    await call.run(security_groups.add_network_security_group_rules, call.account, call.region, call.path[ID], req)


async def modify_network_security_group_rules(call: Call) -> Any:
    req = parse_body(ModifyNetworkSecurityGroupRulesRequest, call.body)
    await call.run(security_groups.modify_network_security_group_rules, call.account, call.region, call.path[ID], req)


async def remove_network_security_group_rules(call: Call) -> Any:
    req = parse_body(RemoveNetworkSecurityGroupRulesRequest, call.body)
    await call.run(security_groups.remove_network_security_group_rules, call.account, call.region, call.path[ID], req)
