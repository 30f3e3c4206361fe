"""Pods and their containers: desired state written by services, observed state by the reconciler."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from podyard.domain.billing import Charge
from podyard.domain.records import ContainerRecord, PodRecord
from podyard.domain.status import Condition, ContainerStatus
from podyard.store import networks
from podyard.store.tables import ClientToken, Pod, PodContainer


@dataclass(frozen=True)
class PodFilter:
    pod_ids: Sequence[str] = ()
    ip_like: str | None = None
    azs: Sequence[str] = ()
    vpc_ids: Sequence[str] = ()
    phases: Sequence[str] = ()
    name_like: str | None = None
    subnet_ids: Sequence[str] = ()
    tags: Sequence[tuple[str, Sequence[str]]] = field(default_factory=tuple)


def _record(p: Pod, sg_names: dict[str, str]) -> PodRecord:
    return PodRecord(
        pod_id=p.pod_id,
        account_id=p.account_id,
        region=p.region,
        name=p.name,
        description=p.description,
        az=p.az,
        hostname=p.hostname,
        instance_type=p.instance_type,
        restart_policy=p.restart_policy,
        grace_seconds=p.grace_seconds,
        spec=p.spec,
        vpc_id=p.vpc_id,
        subnet_id=p.subnet_id,
        ip=p.ip,
        network_interface_id=p.network_interface_id,
        security_groups=tuple((g, sg_names.get(g, "")) for g in p.security_group_ids),
        tags=tuple((t["key"], t.get("value")) for t in p.tags),
        charge=Charge(mode=p.charge_mode, start=p.charge_start, expires=p.charge_expires),
        desired=p.desired,
        phase=p.phase,
        reason=p.phase_reason,
        message=p.phase_message,
        conditions=tuple(Condition.from_wire(c) for c in p.conditions),
        start_time=p.start_time,
        mac_address=p.mac_address,
        generation=p.generation,
        materialized_generation=p.materialized_generation,
        intent_version=p.intent_version,
        created_at=p.created_at,
        containers=tuple(
            ContainerRecord(name=c.name, spec=c.spec, status=ContainerStatus.from_wire(c.status)) for c in p.containers
        ),
    )


def _records(session: Session, pods: Iterable[Pod]) -> list[PodRecord]:
    pods = list(pods)
    names = networks.security_group_names(session, sorted({g for p in pods for g in p.security_group_ids}))
    return [_record(p, names) for p in pods]


def insert_pod(session: Session, r: PodRecord) -> None:
    pod = Pod(
        pod_id=r.pod_id,
        account_id=r.account_id,
        region=r.region,
        name=r.name,
        description=r.description,
        az=r.az,
        hostname=r.hostname,
        instance_type=r.instance_type,
        restart_policy=r.restart_policy,
        grace_seconds=r.grace_seconds,
        spec=r.spec,
        vpc_id=r.vpc_id,
        subnet_id=r.subnet_id,
        ip=r.ip,
        network_interface_id=r.network_interface_id,
        security_group_ids=[g for g, _ in r.security_groups],
        tags=[{"key": k, "value": v} for k, v in r.tags],
        charge_mode=r.charge.mode,
        charge_start=r.charge.start,
        charge_expires=r.charge.expires,
        desired=r.desired,
        phase=r.phase,
        phase_reason=r.reason,
        phase_message=r.message,
        conditions=[c.to_wire() for c in r.conditions],
        start_time=r.start_time,
        mac_address=r.mac_address,
        generation=r.generation,
        materialized_generation=r.materialized_generation,
        intent_version=r.intent_version,
        created_at=r.created_at,
    )
    pod.containers = [
        PodContainer(name=c.name, position=i, spec=c.spec, status=c.status.to_wire())
        for i, c in enumerate(r.containers)
    ]
    session.add(pod)


def usage(session: Session, account_id: str, region: str) -> tuple[int, int]:
    """Pods and containers the account has in the region (deleting ones included)."""
    pods = session.scalar(
        select(func.count()).select_from(Pod).where(Pod.account_id == account_id, Pod.region == region)
    )
    containers = session.scalar(
        select(func.count())
        .select_from(PodContainer)
        .join(Pod)
        .where(Pod.account_id == account_id, Pod.region == region)
    )
    return int(pods or 0), int(containers or 0)


def names_taken(session: Session, account_id: str, region: str, names: Sequence[str]) -> list[str]:
    return list(
        session.scalars(select(Pod.name).where(Pod.account_id == account_id, Pod.region == region, Pod.name.in_(names)))
    )


def client_token(session: Session, account_id: str, region: str, token: str) -> ClientToken | None:
    return session.get(ClientToken, (account_id, region, token))


def remember_client_token(
    session: Session, account_id: str, region: str, token: str, request_hash: str, pod_ids: list[str], now: datetime
) -> None:
    session.add(
        ClientToken(
            account_id=account_id,
            region=region,
            token=token,
            request_hash=request_hash,
            pod_ids=pod_ids,
            created_at=now,
        )
    )


def get(session: Session, account_id: str, region: str, pod_id: str) -> PodRecord | None:
    p = session.get(Pod, pod_id)
    if p is None or p.account_id != account_id or p.region != region:
        return None
    return _records(session, [p])[0]


def get_any(session: Session, pod_id: str) -> PodRecord | None:
    p = session.get(Pod, pod_id)
    return _records(session, [p])[0] if p else None


def all_pod_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Pod.pod_id)))


def _filtered(account_id: str, region: str, f: PodFilter) -> Any:
    q = select(Pod).where(Pod.account_id == account_id, Pod.region == region)
    if f.pod_ids:
        q = q.where(Pod.pod_id.in_(f.pod_ids))
    if f.ip_like:
        q = q.where(Pod.ip.contains(f.ip_like, autoescape=True))
    if f.azs:
        q = q.where(Pod.az.in_(f.azs))
    if f.vpc_ids:
        q = q.where(Pod.vpc_id.in_(f.vpc_ids))
    if f.phases:
        q = q.where(Pod.phase.in_(f.phases))
    if f.name_like:
        q = q.where(Pod.name.contains(f.name_like, autoescape=True))
    if f.subnet_ids:
        q = q.where(Pod.subnet_id.in_(f.subnet_ids))
    return q


def _tags_match(p: Pod, wanted: Sequence[tuple[str, Sequence[str]]]) -> bool:
    tags = {t["key"]: t.get("value") for t in p.tags}
    return all(k in tags and (not values or tags[k] in values) for k, values in wanted)


def page(
    session: Session, account_id: str, region: str, f: PodFilter, number: int, size: int
) -> tuple[list[PodRecord], int]:
    q = _filtered(account_id, region, f).order_by(Pod.created_at.desc(), Pod.pod_id)
    if f.tags:
        pods = [p for p in session.scalars(q) if _tags_match(p, f.tags)]
        return _records(session, pods[(number - 1) * size : number * size]), len(pods)
    total = session.scalar(select(func.count()).select_from(q.order_by(None).subquery()))
    pods = list(session.scalars(q.offset((number - 1) * size).limit(size)))
    return _records(session, pods), int(total or 0)


def apply_intent(session: Session, pod_id: str, *, phase: str, desired: str, bump_generation: bool = False) -> None:
    values: dict[str, Any] = {
        "phase": phase,
        "desired": desired,
        "phase_reason": None,
        "phase_message": None,
        "intent_version": Pod.intent_version + 1,
    }
    if bump_generation:
        values["generation"] = Pod.generation + 1
    session.execute(update(Pod).where(Pod.pod_id == pod_id).values(**values))


def set_description(session: Session, pod_id: str, description: str | None) -> None:
    session.execute(update(Pod).where(Pod.pod_id == pod_id).values(description=description))


def set_instance_type(session: Session, pod_id: str, instance_type: str) -> None:
    p = session.get(Pod, pod_id)
    assert p is not None
    p.instance_type = instance_type
    p.spec = {**p.spec, "instanceType": instance_type}


def replace_container_specs(session: Session, pod_id: str, specs: dict[str, dict[str, Any]]) -> None:
    for c in session.scalars(select(PodContainer).where(PodContainer.pod_id == pod_id)):
        if c.name in specs:
            c.spec = specs[c.name]


@dataclass(frozen=True)
class Observation:
    """What the reconciler saw and decided, written back in one step."""

    phase: str | None
    reason: str | None
    message: str | None
    conditions: Sequence[Condition]
    containers: Sequence[ContainerStatus]
    start_time: datetime | None
    mac_address: str | None
    materialized_generation: int | None
    desired: str | None = None


def save_observation(session: Session, pod_id: str, intent_version: int, obs: Observation) -> bool:
    """Write what was observed. The phase (and desired state) are written only if no user
    action came in since the reconciler read the pod; returns whether they were."""
    p = session.get(Pod, pod_id)
    if p is None:
        return False
    current = p.intent_version == intent_version
    by_name = {c.name: c for c in obs.containers}
    for c in p.containers:
        if c.name in by_name:
            c.status = by_name[c.name].to_wire()
    p.conditions = [c.to_wire() for c in obs.conditions]
    p.mac_address = obs.mac_address or p.mac_address
    p.materialized_generation = obs.materialized_generation
    if obs.start_time is not None or current:
        p.start_time = obs.start_time
    if current and obs.phase is not None:
        p.phase = obs.phase
        p.phase_reason = obs.reason
        p.phase_message = obs.message
        if obs.desired is not None:
            p.desired = obs.desired
    return current


def delete_pod(session: Session, pod_id: str) -> None:
    """Forget a pod for good and free its address."""
    networks.release(session, pod_id)
    session.execute(delete(PodContainer).where(PodContainer.pod_id == pod_id))
    session.execute(delete(Pod).where(Pod.pod_id == pod_id))
