"""Handlers of the elastic IP actions (the VPC service's, and the pod service's associate
and disassociate), and the rendering in the shape of the SDK's vpc ElasticIp model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from podyard.api.call import Call
from podyard.domain.elastic_ips import INSTANCE_TYPE
from podyard.domain.records import ElasticIpRecord
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.elastic_ips import (
    AssociateElasticIpRequest,
    CreateElasticIpsRequest,
    DescribeElasticIpsQuery,
    DisassociateElasticIpRequest,
    ModifyElasticIpRequest,
)
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.domain.status import iso
from podyard.services import elastic_ips

ID = "elasticIpId"


def view(e: ElasticIpRecord, in_arrears: bool, now: datetime) -> dict[str, Any]:
    return {
        "elasticIpId": e.elastic_ip_id,
        "elasticIpName": e.name,
        "elasticIpAddress": e.address,
        "elasticIpPoolId": None,
        "bandwidthMbps": e.bandwidth_mbps,
        "provider": e.provider,
        "providerNameCN": None,
        "privateIpAddress": e.private_ip,
        "networkInterfaceId": e.network_interface_id,
        "instanceId": e.pod_id,
        "instanceType": INSTANCE_TYPE if e.pod_id else None,
        "charge": {
            "chargeMode": e.charge.mode,
            "chargeStatus": e.charge.status(now, in_arrears),
            "chargeStartTime": iso(e.charge.start),
            "chargeExpiredTime": iso(e.charge.expires),
            "chargeRetireTime": iso(e.charge.expires),
        },
        "createdTime": iso(e.created_at),
        "az": None,
        "tags": [{"key": k, "value": v} for k, v in e.tags],
        "ipType": "standard",
        "bandwidthPackageId": None,
        "status": "ASSOCIATED" if e.pod_id else "NOT_ASSOCIATED",
        "state": "UP",
        "resourceGroupId": None,
    }


async def create_elastic_ips(call: Call) -> Any:
    req = parse_body(CreateElasticIpsRequest, call.body)
    return {"elasticIpIds": await call.run(elastic_ips.create_elastic_ips, call.account, call.region, req)}


async def describe_elastic_ip(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    found = await call.read(elastic_ips.describe_elastic_ip, call.account, call.region, call.path[ID])
    return {"elasticIp": view(found, call.account.in_arrears, call.ctx.now())}


async def describe_elastic_ips(call: Call) -> Any:
    q = parse_query(DescribeElasticIpsQuery, call.query)
    found, total = await call.read(elastic_ips.describe_elastic_ips, call.account, call.region, q)
    now = call.ctx.now()
    return {"elasticIps": [view(e, call.account.in_arrears, now) for e in found], "totalCount": total}


async def modify_elastic_ip(call: Call) -> Any:
    req = parse_body(ModifyElasticIpRequest, call.body)
    await call.run(elastic_ips.modify_elastic_ip, call.account, call.region, call.path[ID], req)


async def delete_elastic_ip(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(elastic_ips.delete_elastic_ip, call.account, call.region, call.path[ID])


async def associate_elastic_ip(call: Call) -> Any:
    req = parse_body(AssociateElasticIpRequest, call.body)
    await call.run(elastic_ips.associate_elastic_ip, call.account, call.region, call.path["podId"], req)


async def disassociate_elastic_ip(call: Call) -> Any:
    req = parse_body(DisassociateElasticIpRequest, call.body)
    await call.run(elastic_ips.disassociate_elastic_ip, call.account, call.region, call.path["podId"], req)
