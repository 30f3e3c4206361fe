"""Handlers of the pod actions: decode, call the use case, render."""

from __future__ import annotations

from typing import Any

from podyard.api import views
from podyard.api.call import Call
from podyard.domain.quotas import ResourceType
from podyard.domain.specs.actions import (
    CheckPodNameRequest,
    CreatePodsRequest,
    DeletePodQuery,
    DescribeInstanceTypesQuery,
    DescribePodsQuery,
    DescribePodsStatusQuery,
    DescribeQuotaQuery,
    EmptyBody,
    ModifyPodAttributeRequest,
    RebuildPodRequest,
    ResizePodRequest,
)
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.services import instance_types, pods, quotas

DEFAULT_PAGE_SIZE = 20


async def create_pods(call: Call) -> Any:
    req = parse_body(CreatePodsRequest, call.body)
    pod_ids = await call.run(pods.create_pods, call.account, call.region, req)
    return {"podIds": pod_ids}


async def describe_pod(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    pod = await call.read(pods.describe_pod, call.account, call.region, call.path["podId"])
    return {"pod": views.pod(pod, call.account.in_arrears, call.ctx.now())}


async def describe_pods(call: Call) -> Any:
    q = parse_query(DescribePodsQuery, call.query)
    flt = pods.pod_filter(q.filters, q.tags)
    number, size = q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE
    found, total = await call.read(pods.describe_pods, call.account, call.region, number, size, flt)
    now = call.ctx.now()
    return {"pods": [views.pod_encoded(p, call.account.in_arrears, now) for p in found], "totalCount": total}


async def describe_pods_status(call: Call) -> Any:
    q = parse_query(DescribePodsStatusQuery, call.query)
    flt = pods.pod_filter(q.filters, allow_ag=True)
    number, size = q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE
    found, total = await call.read(pods.describe_pods, call.account, call.region, number, size, flt)
    return {"podsStatus": [views.brief_status(p) for p in found], "totalCount": total}


async def describe_container(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    _, container = await call.run(
        pods.describe_container, call.account, call.region, call.path["podId"], call.path["containerName"]
    )
    return {"container": views.container(container)}


async def start_pod(call: Call) -> Any:
    parse_body(EmptyBody, call.body)
    await call.run(pods.start_pod, call.account, call.region, call.path["podId"])


async def stop_pod(call: Call) -> Any:
    parse_body(EmptyBody, call.body)
    await call.run(pods.stop_pod, call.account, call.region, call.path["podId"])


async def delete_pod(call: Call) -> Any:
    q = parse_query(DeletePodQuery, call.query)
    release = bool(q.delete_primary_network_interface_all_elastic_ip)
    await call.run(pods.delete_pod, call.account, call.region, call.path["podId"], release)


async def modify_pod_attribute(call: Call) -> Any:
    req = parse_body(ModifyPodAttributeRequest, call.body)
    await call.run(pods.modify_pod_attribute, call.account, call.region, call.path["podId"], req)


async def rebuild_pod(call: Call) -> Any:
    req = parse_body(RebuildPodRequest, call.body)
    await call.run(pods.rebuild_pod, call.account, call.region, call.path["podId"], req)


async def resize_pod(call: Call) -> Any:
    req = parse_body(ResizePodRequest, call.body)
    await call.run(pods.resize_pod, call.account, call.region, call.path["podId"], req)


async def check_pod_name(call: Call) -> Any:
    req = parse_body(CheckPodNameRequest, call.body)
    code, reason = await call.run(pods.check_pod_name, call.account, call.region, req)
    return {"code": code, "reason": reason}


async def describe_quota(call: Call) -> Any:
    q = parse_query(DescribeQuotaQuery, call.query)
    resource = ResourceType(q.resource_type)
    limit, used = await call.run(quotas.describe_quota, call.account, call.region, resource)
    return {"quota": {"resourceType": resource.value, "limit": limit, "used": used}}


async def describe_instance_types(call: Call) -> Any:
    q = parse_query(DescribeInstanceTypesQuery, call.query)
    types, azs = await call.run(instance_types.describe_instance_types, call.region, q.filters)
    return {
        "instanceTypes": [views.instance_type(t, azs) for t in types],
        "specificInstanceTypes": [],
        "totalCount": len(types),
    }
