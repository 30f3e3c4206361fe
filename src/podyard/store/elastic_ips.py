"""Elastic IPs: addresses of the operator's pool held by accounts, and their association
with pods. The pool is shared by every account: the ``address`` column is unique, and an
insert that loses a race for an address retries with the next free one."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from podyard.domain import elastic_ips
from podyard.domain.billing import Charge
from podyard.domain.errors import AlreadyExists
from podyard.domain.ids import new_id
from podyard.domain.records import ElasticIpRecord
from podyard.store.inserts import RETRIES, insert_unless_taken
from podyard.store.paging import page_list, page_rows
from podyard.store.tables import ElasticIp, Pod


@dataclass(frozen=True)
class ElasticIpFilter:
    ids: Sequence[str] | None = None
    names: Sequence[str] | None = None
    address: str | None = None
    associated: bool | None = None
    providers: Sequence[str] | None = None
    tags: Sequence[tuple[str, Sequence[str]]] = ()


@dataclass(frozen=True)
class NewElasticIp:
    """What createElasticIps (or createPods) asks for one address."""

    account_id: str
    region: str
    name: str | None
    bandwidth_mbps: int
    provider: str
    tags: Sequence[tuple[str, str | None]]
    charge_mode: str
    pod_id: str | None = None


def _records(session: Session, rows: Sequence[ElasticIp]) -> list[ElasticIpRecord]:
    pods = [r.pod_id for r in rows if r.pod_id]
    c = Pod.__table__.c
    nics = {
        p.pod_id: (p.network_interface_id, p.ip)
        for p in session.execute(select(c.pod_id, c.network_interface_id, c.ip).where(c.pod_id.in_(pods)))
    }
    out = []
    for r in rows:
        nic, ip = nics.get(r.pod_id or "", (None, None))
        out.append(
            ElasticIpRecord(
                elastic_ip_id=r.elastic_ip_id,
                account_id=r.account_id,
                region=r.region,
                name=r.name,
                address=r.address,
                bandwidth_mbps=r.bandwidth_mbps,
                provider=r.provider,
                tags=tuple((t["key"], t.get("value")) for t in r.tags),
                charge=Charge(mode=r.charge_mode, start=r.created_at),
                created_at=r.created_at,
                pod_id=r.pod_id,
                network_interface_id=nic,
                private_ip=ip,
            )
        )
    return out


def _row(session: Session, account_id: str, region: str, eip_id: str, *, lock: bool = False) -> ElasticIp | None:
    q = select(ElasticIp).where(
        ElasticIp.elastic_ip_id == eip_id, ElasticIp.account_id == account_id, ElasticIp.region == region
    )
    return session.scalar(q.with_for_update() if lock else q)


def get(session: Session, account_id: str, region: str, eip_id: str, *, lock: bool = False) -> ElasticIpRecord | None:
    """The account's elastic IP; ``lock`` holds it (on PostgreSQL) to the transaction's end."""
    row = _row(session, account_id, region, eip_id, lock=lock)
    return _records(session, [row])[0] if row else None


def of_pod(session: Session, pod_id: str) -> ElasticIpRecord | None:
    row = session.scalar(select(ElasticIp).where(ElasticIp.pod_id == pod_id).with_for_update())
    return _records(session, [row])[0] if row else None


def _tags_match(tags: list[dict[str, Any]], wanted: Sequence[tuple[str, Sequence[str]]]) -> bool:
    have = {t["key"]: t.get("value") for t in tags}
    return all(k in have and (not values or have[k] in values) for k, values in wanted)


def page(
    session: Session, account_id: str, region: str, f: ElasticIpFilter, number: int, size: int
) -> tuple[list[ElasticIpRecord], int]:
    q = select(ElasticIp).where(ElasticIp.account_id == account_id, ElasticIp.region == region)
    if f.ids is not None:
        q = q.where(ElasticIp.elastic_ip_id.in_(f.ids))
    if f.names is not None:
        q = q.where(ElasticIp.name.in_(f.names))
    if f.address is not None:
        q = q.where(ElasticIp.address == f.address)
    if f.associated is not None:
        q = q.where(ElasticIp.pod_id.is_not(None) if f.associated else ElasticIp.pod_id.is_(None))
    if f.providers is not None:
        q = q.where(ElasticIp.provider.in_(f.providers))
    order = (ElasticIp.created_at, ElasticIp.address)
    if f.tags:
        rows, total = page_list(
            [r for r in session.scalars(q.order_by(*order)) if _tags_match(r.tags, f.tags)], number, size
        )
    else:
        rows, total = page_rows(session, q, order, number, size)
    return _records(session, rows), total


def count(session: Session, account_id: str, region: str) -> int:
    q = (
        select(func.count())
        .select_from(ElasticIp)
        .where(ElasticIp.account_id == account_id, ElasticIp.region == region)
    )
    return int(session.scalar(q) or 0)


def used_addresses(session: Session) -> set[int]:
    """Every held address, of every account."""
    return {int(ipaddress.IPv4Address(a)) for a in session.scalars(select(ElasticIp.address))}


def address_taken(session: Session, address: str) -> bool:
    return session.scalar(select(ElasticIp.elastic_ip_id).where(ElasticIp.address == address)) is not None


def _row_of(new: NewElasticIp, address: str, now: datetime) -> ElasticIp:
    return ElasticIp(
        elastic_ip_id=new_id("fip"),
        account_id=new.account_id,
        region=new.region,
        name=new.name,
        address=address,
        bandwidth_mbps=new.bandwidth_mbps,
        provider=new.provider,
        pod_id=new.pod_id,
        tags=[{"key": k, "value": v} for k, v in new.tags],
        charge_mode=new.charge_mode,
        created_at=now,
    )


def insert_at(session: Session, new: NewElasticIp, address: str, now: datetime) -> str:
    """An elastic IP at a chosen address (checked free by the caller); its id."""
    row = _row_of(new, address, now)
    if not insert_unless_taken(session, [row]):
        raise AlreadyExists(f"elasticIpAddress: {address} was taken concurrently; choose another")
    return row.elastic_ip_id


def insert_allocating(
    session: Session,
    pool: str,
    wanted: Sequence[NewElasticIp],
    now: datetime,
    *,
    on_short: Callable[[int], Exception],
    used: Callable[[Session], set[int]] = used_addresses,
) -> list[tuple[str, str]]:
    """Elastic IPs at the lowest free addresses of the pool, all or none: their (id,
    address). A concurrent create that took one of the chosen addresses makes the whole
    choice retry with what is free then; ``on_short(free)`` is raised when the pool
    has too few free addresses."""
    for _ in range(RETRIES):
        addresses = elastic_ips.free_addresses(pool, used(session), len(wanted))
        if len(addresses) < len(wanted):
            raise on_short(len(addresses))
        rows = [_row_of(new, a, now) for new, a in zip(wanted, addresses, strict=True)]
        if insert_unless_taken(session, rows):
            return [(r.elastic_ip_id, r.address) for r in rows]
    raise AlreadyExists(f"the elastic IP pool {pool} is being allocated concurrently; retry")


def associate(session: Session, eip_id: str, pod_id: str) -> None:
    """Associate (the pod_id column is unique: one elastic IP per pod)."""
    try:
        with session.begin_nested():
            session.execute(update(ElasticIp).where(ElasticIp.elastic_ip_id == eip_id).values(pod_id=pod_id))
    except IntegrityError:
        raise AlreadyExists(f"pod {pod_id} was given an elastic IP concurrently") from None


def set_attributes(session: Session, eip_id: str, values: dict[str, Any]) -> None:
    if values:
        session.execute(update(ElasticIp).where(ElasticIp.elastic_ip_id == eip_id).values(**values))


def disassociate(session: Session, eip_id: str) -> None:
    session.execute(update(ElasticIp).where(ElasticIp.elastic_ip_id == eip_id).values(pod_id=None))


def release_pod(session: Session, pod_id: str) -> None:
    """A pod that is gone holds no elastic IP (the address stays its account's)."""
    session.execute(update(ElasticIp).where(ElasticIp.pod_id == pod_id).values(pod_id=None))


def delete_elastic_ip(session: Session, eip_id: str) -> None:
    session.execute(delete(ElasticIp).where(ElasticIp.elastic_ip_id == eip_id))
