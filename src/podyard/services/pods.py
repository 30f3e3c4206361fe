"""Pod use cases: create, describe, start, stop, delete, modify, rebuild, resize, check a name.

Each one checks the rules (phase machine, billing, quotas) and writes the
desired state in one transaction, then nudges the reconciler. Nothing here
talks to the runtime.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podyard import faults
from podyard.domain import billing, naming, network
from podyard.domain.errors import AlreadyExists, InvalidArgument, NotFound
from podyard.domain.ids import new_id
from podyard.domain.instance_types import INSTANCE_TYPES
from podyard.domain.phases import LEADS_TO, Action, Desired, Phase, check_allowed
from podyard.domain.quotas import ResourceType, check_quota
from podyard.domain.records import AccountRecord, ContainerRecord, PodRecord, SubnetRecord
from podyard.domain.resources import resources_error
from podyard.domain.specs.actions import (
    CheckPodNameRequest,
    CreatePodsRequest,
    ModifyPodAttributeRequest,
    RebuildPodRequest,
    ResizePodRequest,
)
from podyard.domain.specs.containers import ResourceRequestsSpec
from podyard.domain.specs.pod import NetworkInterfaceSpec, PodSpec
from podyard.domain.status import Condition, ContainerStatus
from podyard.services import disk_space, elastic_ips, pod_disks
from podyard.services.context import ServiceContext
from podyard.services.quotas import limit_of
from podyard.services.registries import check_container_images
from podyard.services.secrets import check_container_secrets
from podyard.store import accounts, networks, pods
from podyard.store.pods import PodFilter

DEFAULT_GRACE_SECONDS = 30
NIC = "podSpec.primaryNetworkInterface.networkInterface"


def _dump(model: Any) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


def _request_hash(req: CreatePodsRequest) -> str:
    body = _dump(req)
    body.pop("clientToken", None)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _fresh_account(ctx: ServiceContext, s: Any, account: AccountRecord) -> AccountRecord:
    """The account's standing as it is now (flags change from the command line)."""
    return accounts.by_access_key(s, ctx.secret_box, account.access_key) or account


def create_pods(ctx: ServiceContext, account: AccountRecord, region: str, req: CreatePodsRequest) -> list[str]:
    """The pods, in one transaction: all of them or none, the same ones again for a
    clientToken seen before."""
    spec = req.pod_spec
    _check_placement(ctx, region, spec)
    nic = spec.primary_network_interface.network_interface
    capacity = disk_space.capacity_now(ctx) if spec.volumes else None  # I/O: before the transaction
    now = ctx.now()
    raced = AlreadyExists("podSpec: a pod of that name or address was created concurrently; retry")
    with ctx.db.write(conflict=raced) as s:  # a conflict: only if two requests raced past the checks
        accounts.lock_account(s, account.account_id)
        billing.check_can_create(_fresh_account(ctx, s, account).verified)
        if req.client_token and (seen := _replayed(s, account, region, req)) is not None:
            return seen
        subnet, group_names = _network_of(s, account, region, nic)
        check_container_secrets(s, ctx, account.account_id, region, spec.containers, "podSpec.containers")
        _check_quotas(s, ctx, account, region, req)
        volumes = pod_disks.plan(s, ctx, account.account_id, region, spec, req.max_count, capacity)
        names, hostnames = req.pod_names(), req.hostnames()
        taken = pods.names_taken(s, account.account_id, region, names)
        if taken:
            raise AlreadyExists(f"podSpec.name: a pod named {taken[0]!r} exists already in {region}")
        allocations = networks.SubnetAllocations(s, subnet.subnet_id)
        addresses = network.assign_addresses(subnet.cidr, allocations, nic.addresses(req.max_count), NIC)
        pod_spec = _dump(spec)
        container_specs = pod_spec.pop("containers")
        pod_ids = []
        for name, hostname, (ip, secondary_ips) in zip(names, hostnames, addresses, strict=True):
            pod_id = new_id("pod")
            where = _Where(subnet, group_names, ip, secondary_ips)
            spec_of_pod = volumes.spec_of(s, pod_id, pod_spec, now)
            pods.insert_pod(s, _new_pod(account, region, spec, pod_id, name, hostname, where, spec_of_pod,
                                        container_specs, now))  # fmt: skip
            for address in (ip, *secondary_ips):
                networks.allocate(s, subnet.subnet_id, address, pod_id)
            pod_ids.append(pod_id)
        if spec.elastic_ip is not None:  # one per pod, associated, in this same transaction
            elastic_ips.create_for_pods(s, ctx, account.account_id, region, spec.elastic_ip, pod_ids)
        if req.client_token:
            pods.remember_client_token(
                s, account.account_id, region, req.client_token, _request_hash(req), pod_ids, now
            )
    faults.point("createPods.committed")
    ctx.nudge_vpc(subnet.vpc_id)  # the new ports' rules load while the pods are made
    for pod_id in pod_ids:
        ctx.nudge(pod_id)
    return pod_ids


def _check_placement(ctx: ServiceContext, region: str, spec: PodSpec) -> None:
    """The region, the zone, and every image's registry (names resolve: before the transaction)."""
    ctx.check_region(region)
    if spec.az not in ctx.region.azs:
        raise InvalidArgument(
            f"podSpec.az: {spec.az!r} is not an availability zone of {region}: {', '.join(ctx.region.azs)}"
        )
    check_container_images(ctx, spec.containers, "podSpec.containers")


def _replayed(s: Any, account: AccountRecord, region: str, req: CreatePodsRequest) -> list[str] | None:
    """The pods a request with this clientToken made before; a different request with it is a 400."""
    assert req.client_token
    seen = pods.client_token(s, account.account_id, region, req.client_token)
    if seen is None:
        return None
    if seen.request_hash != _request_hash(req):
        raise InvalidArgument(f"clientToken: {req.client_token!r} was already used with a different request")
    return list(seen.pod_ids)


def _network_of(
    s: Any, account: AccountRecord, region: str, nic: NetworkInterfaceSpec
) -> tuple[SubnetRecord, tuple[tuple[str, str], ...]]:
    """The interface's subnet and its security groups (id, name), each the caller's and in one VPC."""
    subnet = networks.subnet(s, account.account_id, region, nic.subnet_id)
    if subnet is None:
        raise NotFound(f"{NIC}.subnetId: subnet {nic.subnet_id} not found")
    groups = networks.security_groups(s, account.account_id, region, nic.security_groups)
    for g in nic.security_groups:
        if g not in groups:
            raise NotFound(f"{NIC}.securityGroups: security group {g} not found")
        if groups[g][1] != subnet.vpc_id:
            raise InvalidArgument(
                f"{NIC}.securityGroups: security group {g} is not in the subnet's VPC {subnet.vpc_id}"
            )
    return subnet, tuple((g, groups[g][0]) for g in nic.security_groups)


def _check_quotas(s: Any, ctx: ServiceContext, account: AccountRecord, region: str, req: CreatePodsRequest) -> None:
    used_pods, used_containers = pods.usage(s, account.account_id, region)
    overrides = accounts.quota_overrides(s, account.account_id, region)
    check_quota(ResourceType.POD, limit_of(ctx, overrides, ResourceType.POD), used_pods, req.max_count)
    check_quota(
        ResourceType.CONTAINER,
        limit_of(ctx, overrides, ResourceType.CONTAINER),
        used_containers,
        req.max_count * len(req.pod_spec.containers),
    )


@dataclass(frozen=True)
class _Where:
    """A new pod's place in the network."""

    subnet: SubnetRecord
    groups: tuple[tuple[str, str], ...]
    ip: str
    secondary_ips: tuple[str, ...]


def _new_pod(
    account: AccountRecord,
    region: str,
    spec: PodSpec,
    pod_id: str,
    name: str,
    hostname: str | None,
    where: _Where,
    pod_spec: dict[str, Any],
    container_specs: list[dict[str, Any]],
    now: datetime,
) -> PodRecord:
    """A new pod as the request asks: pending, to run."""
    charge = billing.new_charge(
        spec.charge.charge_mode if spec.charge else None,
        spec.charge.charge_unit if spec.charge else None,
        spec.charge.charge_duration if spec.charge else None,
        now,
    )
    grace = spec.termination_grace_period_seconds
    return PodRecord(
        pod_id=pod_id,
        account_id=account.account_id,
        region=region,
        name=name,
        description=spec.description,
        az=spec.az,
        hostname=hostname or pod_id,
        instance_type=spec.instance_type,
        restart_policy=spec.restart_policy or "Always",
        grace_seconds=grace if grace is not None else DEFAULT_GRACE_SECONDS,
        spec=pod_spec,
        vpc_id=where.subnet.vpc_id,
        subnet_id=where.subnet.subnet_id,
        ip=where.ip,
        secondary_ips=where.secondary_ips,
        network_interface_id=new_id("port"),
        security_groups=where.groups,
        tags=tuple((t.key, t.value) for t in spec.user_tags or []),
        charge=charge,
        desired=Desired.RUNNING,
        phase=Phase.PENDING,
        reason=None,
        message=None,
        conditions=(Condition(type="Ready", status="False", reason="ContainersNotReady", last_transition=now),),
        start_time=None,
        mac_address=None,
        generation=1,
        materialized_generation=None,
        intent_version=1,
        created_at=now,
        containers=_new_containers(container_specs),
    )


def _new_containers(specs: list[dict[str, Any]]) -> tuple[ContainerRecord, ...]:
    return tuple(ContainerRecord(name=c["name"], spec=c, status=ContainerStatus(name=c["name"])) for c in specs)


def describe_pod(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str) -> PodRecord:
    ctx.check_region(region)
    pod = pods.read_pod(ctx.db, account.account_id, region, pod_id)
    if pod is None:
        raise NotFound(f"podId: pod {pod_id} not found")
    return pod


def describe_container(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, name: str
) -> tuple[PodRecord, ContainerRecord]:
    pod = describe_pod(ctx, account, region, pod_id)
    for c in pod.containers:
        if c.name == name:
            return pod, c
    raise NotFound(f"containerName: pod {pod_id} has no container {name!r}")


@dataclass(frozen=True)
class _FilterRule:
    field: str
    multi: bool
    fuzzy: bool


POD_FILTERS = {
    "podId": _FilterRule("pod_ids", True, False),
    "privateIpAddress": _FilterRule("ip_like", False, True),
    "az": _FilterRule("azs", True, False),
    "vpcId": _FilterRule("vpc_ids", True, False),
    "phase": _FilterRule("phases", True, False),
    "name": _FilterRule("name_like", False, True),
    "subnetId": _FilterRule("subnet_ids", True, False),
}


def pod_filter(filters: list[Any] | None, tags: list[Any] | None = None, *, allow_ag: bool = False) -> PodFilter | None:
    """The docs' filters as a PodFilter; None when nothing can match (an agId filter:
    podyard offers no availability groups)."""
    values: dict[str, Any] = {}
    for i, f in enumerate(filters or []):
        if f.name == "agId" and allow_ag:
            return None
        rule = POD_FILTERS.get(f.name)
        if rule is None:
            known = ", ".join([*POD_FILTERS, *(["agId"] if allow_ag else [])])
            raise InvalidArgument(f"filters[{i}].name: unknown filter {f.name!r}; the filters are {known}")
        if f.operator not in (None, "eq", "in", "like"):
            raise InvalidArgument(f"filters[{i}].operator: {f.operator!r} is not supported; use eq")
        if not rule.multi and len(f.values) != 1:
            raise InvalidArgument(f"filters[{i}].values: filter {f.name} takes exactly one value")
        values[rule.field] = f.values[0] if rule.fuzzy else tuple(f.values)
    if tags:
        values["tags"] = tuple((t.key, tuple(t.values or ())) for t in tags)
    return PodFilter(**values)


def describe_pods(
    ctx: ServiceContext,
    account: AccountRecord,
    region: str,
    page_number: int,
    page_size: int,
    flt: PodFilter | None,
) -> tuple[list[PodRecord], int]:
    ctx.check_region(region)
    if flt is None:
        return [], 0
    return pods.read_page(ctx.db, account.account_id, region, flt, page_number, page_size)


def _act(
    ctx: ServiceContext,
    account: AccountRecord,
    region: str,
    pod_id: str,
    action: Action,
    *,
    bump_generation: bool = False,
    extra: Any = None,
) -> None:
    """Check ``action`` against the phase machine and the account's standing, then record
    the intent. ``extra(session, pod)`` makes the action's own changes in the same step."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        pod = pods.get(s, account.account_id, region, pod_id, lock=True)
        if pod is None:
            raise NotFound(f"podId: pod {pod_id} not found")
        check_allowed(action, Phase(pod.phase), pod_id)
        standing = _fresh_account(ctx, s, account)
        if action == Action.START:
            billing.check_can_start(standing.in_arrears, pod_id)
        if action == Action.DELETE:
            billing.check_can_delete(pod.charge, standing.in_arrears, ctx.now(), pod_id)
        if extra is not None:
            extra(s, pod)
        phase, desired = LEADS_TO[action]
        pods.apply_intent(s, pod_id, phase=phase, desired=desired, bump_generation=bump_generation)
    faults.point(f"{action}.committed")
    ctx.nudge(pod_id)


def start_pod(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str) -> None:
    _act(ctx, account, region, pod_id, Action.START)


def stop_pod(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str) -> None:
    _act(ctx, account, region, pod_id, Action.STOP)


def delete_pod(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, delete_elastic_ip: bool = False
) -> None:
    """The pod's elastic IP is deleted with ``deletePrimaryNetworkInterfaceAllElasticIp``,
    and otherwise stays its account's, disassociated."""
    released: list[str] = []

    def release(s: Any, pod: PodRecord) -> None:
        if elastic_ips.release_of_pod(s, pod.pod_id, delete=delete_elastic_ip):
            released.append(pod.vpc_id)
        pod_disks.release_of_pod(s, ctx, pod.pod_id)

    _act(ctx, account, region, pod_id, Action.DELETE, extra=release)
    for vpc_id in released:
        ctx.nudge_vpc(vpc_id)


def modify_pod_attribute(
    ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, req: ModifyPodAttributeRequest
) -> None:
    ctx.check_region(region)
    with ctx.db.write() as s:
        pod = pods.get(s, account.account_id, region, pod_id, lock=True)
        if pod is None:
            raise NotFound(f"podId: pod {pod_id} not found")
        check_allowed(Action.MODIFY, Phase(pod.phase), pod_id)
        if req.description is not None:
            pods.set_description(s, pod_id, req.description)


# What rebuildPod resets of a container; resources and the system disk stay.
REBUILT_FIELDS = (
    "image",
    "command",
    "args",
    "env",
    "secret",
    "tty",
    "workingDir",
    "livenessProbe",
    "readinessProbe",
    "volumeMounts",
)


def rebuild_pod(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, req: RebuildPodRequest) -> None:
    def rebuild(s: Any, pod: PodRecord) -> None:
        current = {c.name: c.spec for c in pod.containers}
        volumes = {v["name"] for v in pod.spec.get("volumes") or []}
        new_specs = {}
        for i, c in enumerate(req.containers):
            if c.name not in current:
                raise NotFound(f"containers[{i}].name: pod {pod_id} has no container {c.name!r}")
            for m in c.volume_mounts or []:
                if m.name not in volumes:
                    raise InvalidArgument(f"containers[{i}].volumeMounts: the pod has no volume {m.name!r}")
            given = _dump(c)
            check_container_secrets(s, ctx, account.account_id, region, [c], f"containers[{i}]")
            kept = {k: v for k, v in current[c.name].items() if k not in REBUILT_FIELDS}
            new_specs[c.name] = {**kept, **{k: v for k, v in given.items() if k in REBUILT_FIELDS}}
        pods.replace_container_specs(s, pod_id, new_specs)

    ctx.check_region(region)
    check_container_images(ctx, req.containers, "containers")  # resolves names: before the transaction
    _act(ctx, account, region, pod_id, Action.REBUILD, bump_generation=True, extra=rebuild)


def resize_pod(ctx: ServiceContext, account: AccountRecord, region: str, pod_id: str, req: ResizePodRequest) -> None:
    instance = INSTANCE_TYPES.get(req.instance_type)
    if instance is None:
        raise InvalidArgument("instanceType: unknown instance type; describeInstanceTypes lists them")

    def resize(s: Any, pod: PodRecord) -> None:
        if req.instance_type == pod.instance_type:
            raise InvalidArgument(f"instanceType: pod {pod_id} is {pod.instance_type} already; choose another type")
        specs = {c.name: dict(c.spec) for c in pod.containers}
        for i, c in enumerate(req.container_resources or []):
            if c.name not in specs:
                raise NotFound(f"containerResources[{i}].name: pod {pod_id} has no container {c.name!r}")
            specs[c.name]["resources"] = _dump(c.resources)
        error = resources_error(
            instance,
            [
                ResourceRequestsSpec.model_validate(sp["resources"]).of(n)
                for n, sp in specs.items()
                if sp.get("resources")
            ],
        )
        if error:
            raise InvalidArgument(f"containerResources: {error}")
        pods.replace_container_specs(s, pod_id, specs)
        pods.set_instance_type(s, pod_id, req.instance_type)

    _act(ctx, account, region, pod_id, Action.RESIZE, bump_generation=True, extra=resize)


def check_pod_name(
    ctx: ServiceContext, account: AccountRecord, region: str, req: CheckPodNameRequest
) -> tuple[int, str | None]:
    """The docs' codes: 0 passes, 1 the name is empty, 2 it breaks the rules, 3 it is taken."""
    ctx.check_region(region)
    if not req.pod_name:
        return 1, "the pod name is empty"
    names = naming.expand_names(req.pod_name, req.max_count or 1)
    for name in names:
        error = naming.dns1123_subdomain_error(name)
        if error:
            return 2, f"{name!r} {error}"
    with ctx.db.read() as s:
        taken = pods.names_taken(s, account.account_id, region, names)
    if taken:
        return 3, f"a pod named {taken[0]!r} exists already in {region}"
    return 0, None
