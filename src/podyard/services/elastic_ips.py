"""Elastic IP use cases: the VPC service's create, describe, list and delete; the pod
service's associate and disassociate; and what createPods and deletePod do with them.

Addresses come from the operator's pool (``ctx.elastic_ip_pool``), lowest free first,
shared by every account. An association is the pod's primary interface's primary IP,
one elastic IP per pod; after one changes, the pod's VPC network is nudged to follow.
"""

from __future__ import annotations

from typing import Any

from podyard.domain import elastic_ips
from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from podyard.domain.phases import Action, Phase, check_allowed
from podyard.domain.quotas import VpcResource, check_quota
from podyard.domain.records import AccountRecord, ElasticIpRecord, PodRecord
from podyard.domain.specs.elastic_ips import (
    AssociateElasticIpRequest,
    CreateElasticIpsRequest,
    DescribeElasticIpsQuery,
    DisassociateElasticIpRequest,
    ModifyElasticIpRequest,
)
from podyard.domain.specs.pod import ElasticIpSpec
from podyard.services import vpc_quotas
from podyard.services.context import ServiceContext
from podyard.services.security_groups import DEFAULT_PAGE_SIZE
from podyard.store import accounts, pods
from podyard.store import elastic_ips as eips
from podyard.store.elastic_ips import ElasticIpFilter, NewElasticIp

ID = "elasticIpId"


def _standing(ctx: ServiceContext, s: Any, account: AccountRecord) -> AccountRecord:
    """The account's standing as it is now (flags change from the command line)."""
    return accounts.by_access_key(s, ctx.secret_box, account.access_key) or account


def _short(ctx: ServiceContext, field: str, asked: int) -> Any:
    def error(free: int) -> Exception:
        return FailedPrecondition(
            f"{field}: the elastic IP pool {ctx.elastic_ip_pool} has {free} free address(es), {asked} asked"
        )

    return error


def _check_quota(ctx: ServiceContext, s: Any, account_id: str, region: str, asked: int) -> None:
    limit = vpc_quotas.limit(ctx, s, account_id, region, VpcResource.ELASTIC_IP)
    check_quota(VpcResource.ELASTIC_IP, limit, eips.count(s, account_id, region), asked)


def create_elastic_ips(
    ctx: ServiceContext, account: AccountRecord, region: str, req: CreateElasticIpsRequest
) -> list[str]:
    ctx.check_region(region)
    spec = req.elastic_ip_spec
    error = elastic_ips.provider_error(spec.provider, region)
    if error:
        raise InvalidArgument(f"elasticIpSpec.provider: {error}")
    if req.elastic_ip_address:
        error = elastic_ips.pool_address_error(req.elastic_ip_address, ctx.elastic_ip_pool)
        if error:
            raise InvalidArgument(f"elasticIpAddress: {error}")
    new = NewElasticIp(
        account_id=account.account_id,
        region=region,
        name=req.elastic_ip_name,
        bandwidth_mbps=spec.bandwidth_mbps,
        provider=spec.provider,
        tags=tuple((t.key, t.value) for t in req.user_tags or []),
        charge_mode=spec.charge_mode(),
    )
    now = ctx.now()
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        standing = _standing(ctx, s, account)
        elastic_ips.check_can_buy(standing.verified, standing.in_arrears, "createElasticIps")
        _check_quota(ctx, s, account.account_id, region, req.max_count)
        if req.elastic_ip_address:
            if eips.address_taken(s, req.elastic_ip_address):
                raise AlreadyExists(f"elasticIpAddress: {req.elastic_ip_address} is in use")
            return [eips.insert_at(s, new, req.elastic_ip_address, now)]
        made = eips.insert_allocating(
            s, ctx.elastic_ip_pool, [new] * req.max_count, now, on_short=_short(ctx, "maxCount", req.max_count)
        )
    return [eip_id for eip_id, _ in made]


def describe_elastic_ip(ctx: ServiceContext, account: AccountRecord, region: str, eip_id: str) -> ElasticIpRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = eips.get(s, account.account_id, region, eip_id)
    if found is None:
        raise NotFound(f"{ID}: elastic IP {eip_id} not found")
    return found


# Filters of describeElasticIps that no elastic IP here can match: podyard has one pool,
# without an id, and no shared bandwidth packages. (azs and resourceTag are refused.)
_MATCH_NOTHING = ("elasticIpPoolId", "bandwidthPackageId")


def describe_elastic_ips(
    ctx: ServiceContext, account: AccountRecord, region: str, q: DescribeElasticIpsQuery
) -> tuple[list[ElasticIpRecord], int]:
    ctx.check_region(region)
    values = q.filter_map()
    if any(name in values for name in _MATCH_NOTHING):
        return [], 0
    if values.get("ipType", ("all",))[0] == "edge":
        return [], 0
    status = values.get("status", ("ALL",))[0]
    address = values.get("elasticIpAddress")
    flt = ElasticIpFilter(
        ids=values.get("elasticIpIds"),
        names=values.get("elasticIpNames"),
        address=address[0] if address else None,
        associated=None if status == "ALL" else status == "ASSOCIATED",
        providers=values.get("providers"),
        tags=tuple((t.key, tuple(t.values or ())) for t in q.tags or []),
    )
    number, size = q.page_number or 1, q.page_size or DEFAULT_PAGE_SIZE
    with ctx.db.read() as s:
        if "chargeStatus" in values:
            # Every elastic IP here is postpaid: all are normal, or all arrear with the account.
            # (The caller's standing as the views render it, so the filter and the view agree.)
            now_status = "arrear" if account.in_arrears else "normal"
            if values["chargeStatus"][0] != now_status:
                return [], 0
        found, total = eips.page(s, account.account_id, region, flt, number, size)
    return found, total


def modify_elastic_ip(
    ctx: ServiceContext, account: AccountRecord, region: str, eip_id: str, req: ModifyElasticIpRequest
) -> None:
    """Bandwidth and name; what is left out stays. A new bandwidth of an associated
    address is the pod's network's to follow."""
    ctx.check_region(region)
    values: dict[str, Any] = {}
    if req.bandwidth_mbps is not None:
        values["bandwidth_mbps"] = req.bandwidth_mbps
    if req.elastic_ip_name is not None:
        values["name"] = req.elastic_ip_name
    with ctx.db.write() as s:
        found = _eip(s, account, region, eip_id)
        eips.set_attributes(s, eip_id, values)
        pod = pods.get(s, account.account_id, region, found.pod_id) if found.pod_id else None
    if pod is not None and "bandwidth_mbps" in values:
        ctx.nudge_vpc(pod.vpc_id)
        ctx.nudge(pod.pod_id)


def delete_elastic_ip(ctx: ServiceContext, account: AccountRecord, region: str, eip_id: str) -> None:
    """Refused while associated, naming the pod. The address goes back to the pool."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        found = eips.get(s, account.account_id, region, eip_id, lock=True)
        if found is None:
            raise NotFound(f"{ID}: elastic IP {eip_id} not found")
        if found.pod_id:
            raise FailedPrecondition(
                f"elastic IP {eip_id} ({found.address}) is associated with pod {found.pod_id}: "
                "disassociate it (disassociateElasticIp) or delete the pod first"
            )
        eips.delete_elastic_ip(s, eip_id)


def _pod(s: Any, account: AccountRecord, region: str, pod_id: str, action: Action) -> PodRecord:
    pod = pods.get(s, account.account_id, region, pod_id, lock=True)
    if pod is None:
        raise NotFound(f"podId: pod {pod_id} not found")
    check_allowed(action, Phase(pod.phase), pod_id)
    return pod


def _eip(s: Any, account: AccountRecord, region: str, eip_id: str) -> ElasticIpRecord:
    found = eips.get(s, account.account_id, region, eip_id, lock=True)
    if found is None:
        raise NotFound(f"{ID}: elastic IP {eip_id} not found")
    return found


def associate_elastic_ip(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, req: AssociateElasticIpRequest
) -> None:
    """On the pod's primary interface's primary IP; one per pod, one pod per address.
    Refused for an account without real-name verification or in arrears."""
    ctx.check_region(region)
    action = Action.ASSOCIATE
    with ctx.db.write() as s:
        pod = _pod(s, account, region, pod_id, action)
        standing = _standing(ctx, s, account)
        elastic_ips.check_can_associate(standing.verified, standing.in_arrears, pod_id, action)
        eip = _eip(s, account, region, req.elastic_ip_id)
        if eip.pod_id == pod_id:
            raise FailedPrecondition(f"{ID}: elastic IP {eip.elastic_ip_id} is associated with pod {pod_id} already")
        if eip.pod_id:
            raise FailedPrecondition(
                f"{ID}: elastic IP {eip.elastic_ip_id} ({eip.address}) is associated with pod {eip.pod_id}; "
                "disassociate it first"
            )
        held = eips.of_pod(s, pod_id)
        if held is not None:
            raise FailedPrecondition(
                f"podId: pod {pod_id} has elastic IP {held.elastic_ip_id} ({held.address}) already; "
                "a pod has one: disassociate it first"
            )
        eips.associate(s, eip.elastic_ip_id, pod_id)
    ctx.nudge_vpc(pod.vpc_id)
    ctx.nudge(pod_id)


def disassociate_elastic_ip(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, req: DisassociateElasticIpRequest
) -> None:
    """The address stays the account's, free for another pod."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        pod = _pod(s, account, region, pod_id, Action.DISASSOCIATE)
        eip = _eip(s, account, region, req.elastic_ip_id)
        if eip.pod_id != pod_id:
            held = eips.of_pod(s, pod_id)
            has = f"has elastic IP {held.elastic_ip_id}" if held else "has no elastic IP"
            raise FailedPrecondition(
                f"{ID}: elastic IP {eip.elastic_ip_id} is not associated with pod {pod_id} (the pod {has})"
            )
        eips.disassociate(s, eip.elastic_ip_id)
    ctx.nudge_vpc(pod.vpc_id)
    ctx.nudge(pod_id)


def create_for_pods(
    s: Any, ctx: ServiceContext, account_id: str, region: str, spec: ElasticIpSpec, pod_ids: list[str]
) -> list[tuple[str, str]]:
    """createPods' elasticIp, in createPods' transaction: one elastic IP per pod,
    associated with it; all or none (too small a pool creates nothing)."""
    provider = spec.provider_name()
    error = elastic_ips.provider_error(provider, region)
    if error:
        raise InvalidArgument(f"podSpec.elasticIp.provider: {error}")
    _check_quota(ctx, s, account_id, region, len(pod_ids))
    charge = spec.charge_spec.charge_mode if spec.charge_spec and spec.charge_spec.charge_mode else None
    wanted = [
        NewElasticIp(
            account_id=account_id,
            region=region,
            name=None,
            bandwidth_mbps=spec.bandwidth_mbps,
            provider=provider,
            tags=(),
            charge_mode=charge or "postpaid_by_duration",
            pod_id=pod_id,
        )
        for pod_id in pod_ids
    ]
    return eips.insert_allocating(
        s, ctx.elastic_ip_pool, wanted, ctx.now(), on_short=_short(ctx, "podSpec.elasticIp", len(pod_ids))
    )


def release_of_pod(s: Any, pod_id: str, *, delete: bool) -> bool:
    """deletePod: the pod's elastic IP is deleted (``deletePrimaryNetworkInterfaceAllElasticIp``)
    or stays, disassociated. Whether the pod had one."""
    held = eips.of_pod(s, pod_id)
    if held is None:
        return False
    if delete:
        eips.delete_elastic_ip(s, held.elastic_ip_id)
    else:
        eips.disassociate(s, held.elastic_ip_id)
    return True
