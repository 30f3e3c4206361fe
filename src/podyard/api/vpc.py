"""Handlers of the VPC service's VPC, subnet, network interface and quota actions:
decode, call the use case, render."""

from __future__ import annotations

from typing import Any

from podyard.api import vpc_views as views
from podyard.api.call import Call
from podyard.domain import vpcs as rules
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.vpc import (
    CreateSubnetRequest,
    CreateVpcRequest,
    DescribeVpcQuotaQuery,
    ModifySubnetRequest,
    ModifyVpcRequest,
    VpcListQuery,
)
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.services import network_interfaces, subnets, vpc_quotas, vpcs

DEFAULT_PAGE_SIZE = 20


def _page(q: VpcListQuery) -> tuple[int, int]:
    return q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE


async def create_vpc(call: Call) -> Any:
    req = parse_body(CreateVpcRequest, call.body)
    return {"vpcId": await call.run(vpcs.create_vpc, call.account, call.region, req)}


async def describe_vpc(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    return {"vpc": views.vpc(await call.read(vpcs.describe_vpc, call.account, call.region, call.path["vpcId"]))}


async def describe_vpcs(call: Call) -> Any:
    q = parse_query(VpcListQuery, call.query)
    found, total = await call.read(
        vpcs.describe_vpcs, call.account, call.region, *_page(q), rules.vpc_filter(q.filters)
    )
    return {"vpcs": [views.vpc(v) for v in found], "totalCount": total}


async def modify_vpc(call: Call) -> Any:
    req = parse_body(ModifyVpcRequest, call.body)
    await call.run(vpcs.modify_vpc, call.account, call.region, call.path["vpcId"], req)


async def delete_vpc(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(vpcs.delete_vpc, call.account, call.region, call.path["vpcId"])


async def create_subnet(call: Call) -> Any:
    req = parse_body(CreateSubnetRequest, call.body)
    return {"subnetId": await call.run(subnets.create_subnet, call.account, call.region, req)}


async def describe_subnet(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(subnets.describe_subnet, call.account, call.region, call.path["subnetId"])
    return {"subnet": views.subnet(found)}


async def describe_subnets(call: Call) -> Any:
    q = parse_query(VpcListQuery, call.query)
    flt = rules.subnet_filter(q.filters)
    found, total = await call.read(subnets.describe_subnets, call.account, call.region, *_page(q), flt)
    return {"subnets": [views.subnet(s) for s in found], "totalCount": total}


async def modify_subnet(call: Call) -> Any:
    req = parse_body(ModifySubnetRequest, call.body)
    await call.run(subnets.modify_subnet, call.account, call.region, call.path["subnetId"], req)


async def delete_subnet(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(subnets.delete_subnet, call.account, call.region, call.path["subnetId"])


async def describe_network_interface(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(
        network_interfaces.describe_network_interface, call.account, call.region, call.path["networkInterfaceId"]
    )
    return {"networkInterface": views.network_interface(found)}


async def describe_network_interfaces(call: Call) -> Any:
    q = parse_query(VpcListQuery, call.query)
    flt = rules.interface_filter(q.filters)
    found, total = await call.read(
        network_interfaces.describe_network_interfaces, call.account, call.region, *_page(q), flt
    )
    return {"networkInterfaces": [views.network_interface(n) for n in found], "totalCount": total}


async def describe_quota(call: Call) -> Any:
    q = parse_query(DescribeVpcQuotaQuery, call.query)
    resource, limit, count = await call.run(vpc_quotas.describe_quota, call.account, call.region, q)
    return {"quota": views.quota(resource, q.parent_resource_id, limit, count)}
