"""VPCs and subnets as the VPC service reads and writes them; every query is scoped to
an account and region. The account's default network is made in store/networks.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from podyard.domain.ids import new_id
from podyard.domain.records import SubnetDetailRecord, VpcRecord
from podyard.domain.vpcs import SubnetFilter, VpcFilter
from podyard.store.paging import page_rows
from podyard.store.tables import IpAllocation, Pod, SecurityGroup, Subnet, Vpc


def _used(session: Session, subnet_ids: Sequence[str]) -> dict[str, int]:
    if not subnet_ids:
        return {}
    rows = session.execute(
        select(IpAllocation.subnet_id, func.count())
        .where(IpAllocation.subnet_id.in_(subnet_ids))
        .group_by(IpAllocation.subnet_id)
    )
    return {subnet_id: int(n) for subnet_id, n in rows}


def _subnets(session: Session, rows: Sequence[Subnet]) -> list[SubnetDetailRecord]:
    used = _used(session, [r.subnet_id for r in rows])
    return [
        SubnetDetailRecord(
            subnet_id=r.subnet_id,
            vpc_id=r.vpc_id,
            account_id=r.account_id,
            region=r.region,
            name=r.name,
            cidr=r.cidr,
            description=r.description,
            created_at=r.created_at,
            used_addresses=used.get(r.subnet_id, 0),
            is_default=r.pool_index is not None,
        )
        for r in rows
    ]


_SUBNET_ORDER = (Subnet.created_at, Subnet.subnet_id)
_VPC_ORDER = (Vpc.created_at, Vpc.vpc_id)


def _vpcs(session: Session, rows: Sequence[Vpc]) -> list[VpcRecord]:
    ids = [r.vpc_id for r in rows]
    subnets: dict[str, list[SubnetDetailRecord]] = {i: [] for i in ids}
    if ids:
        found = session.scalars(select(Subnet).where(Subnet.vpc_id.in_(ids)).order_by(*_SUBNET_ORDER)).all()
        for s in _subnets(session, found):
            subnets[s.vpc_id].append(s)
    return [
        VpcRecord(
            vpc_id=r.vpc_id,
            account_id=r.account_id,
            region=r.region,
            name=r.name,
            cidr=r.cidr or None,
            description=r.description,
            created_at=r.created_at,
            subnets=tuple(subnets[r.vpc_id]),
        )
        for r in rows
    ]


# -- VPCs --


def vpc(session: Session, account_id: str, region: str, vpc_id: str) -> VpcRecord | None:
    row = session.get(Vpc, vpc_id)
    if row is None or row.account_id != account_id or row.region != region:
        return None
    return _vpcs(session, [row])[0]


def vpc_range(session: Session, account_id: str, region: str, vpc_id: str) -> str | None:
    """The account's VPC's range: "" when it has none, None when there is no such VPC."""
    query = select(Vpc.cidr).where(Vpc.vpc_id == vpc_id, Vpc.account_id == account_id, Vpc.region == region)
    return session.scalar(query)


def vpc_page(
    session: Session, account_id: str, region: str, f: VpcFilter, number: int, size: int
) -> tuple[list[VpcRecord], int]:
    query = select(Vpc).where(Vpc.account_id == account_id, Vpc.region == region)
    if f.vpc_ids is not None:
        query = query.where(Vpc.vpc_id.in_(f.vpc_ids))
    if f.names is not None:
        query = query.where(Vpc.name.in_(f.names))
    rows, total = page_rows(session, query, _VPC_ORDER, number, size)
    return _vpcs(session, rows), total


def count_vpcs(session: Session, account_id: str, region: str) -> int:
    query = select(func.count()).select_from(Vpc).where(Vpc.account_id == account_id, Vpc.region == region)
    return int(session.scalar(query) or 0)


def add_vpc(
    session: Session, account_id: str, region: str, name: str, cidr: str | None, description: str | None, now: datetime
) -> str:
    vpc_id = new_id("vpc")
    # The column holds "" for a VPC without a range.
    session.add(
        Vpc(
            vpc_id=vpc_id,
            account_id=account_id,
            region=region,
            name=name,
            cidr=cidr or "",
            description=description,
            created_at=now,
        )
    )
    session.flush()
    return vpc_id


def update_vpc(session: Session, vpc_id: str, name: str | None, description: str | None, lift_range: bool) -> None:
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name
    if description is not None:
        values["description"] = description
    if lift_range:
        values["cidr"] = ""
    if values:
        session.execute(update(Vpc).where(Vpc.vpc_id == vpc_id).values(**values))


def security_group_ids(session: Session, vpc_id: str) -> list[str]:
    query = select(SecurityGroup.security_group_id).where(SecurityGroup.vpc_id == vpc_id)
    return list(session.scalars(query.order_by(SecurityGroup.created_at, SecurityGroup.security_group_id)))


def remove_vpc(session: Session, vpc_id: str) -> None:
    session.execute(delete(Vpc).where(Vpc.vpc_id == vpc_id))


# -- subnets --


def subnet(session: Session, account_id: str, region: str, subnet_id: str) -> SubnetDetailRecord | None:
    row = session.get(Subnet, subnet_id)
    if row is None or row.account_id != account_id or row.region != region:
        return None
    return _subnets(session, [row])[0]


def subnet_page(
    session: Session, account_id: str, region: str, f: SubnetFilter, number: int, size: int
) -> tuple[list[SubnetDetailRecord], int]:
    query = select(Subnet).where(Subnet.account_id == account_id, Subnet.region == region)
    if f.subnet_ids is not None:
        query = query.where(Subnet.subnet_id.in_(f.subnet_ids))
    if f.names is not None:
        query = query.where(Subnet.name.in_(f.names))
    if f.vpc_id is not None:
        query = query.where(Subnet.vpc_id == f.vpc_id)
    rows, total = page_rows(session, query, _SUBNET_ORDER, number, size)
    return _subnets(session, rows), total


def vpc_subnet_ranges(session: Session, vpc_id: str) -> list[tuple[str, str]]:
    """The VPC's subnets: (id, range)."""
    query = select(Subnet.subnet_id, Subnet.cidr).where(Subnet.vpc_id == vpc_id).order_by(*_SUBNET_ORDER)
    return [(i, c) for i, c in session.execute(query)]


def add_subnet(
    session: Session,
    account_id: str,
    region: str,
    vpc_id: str,
    name: str,
    cidr: str,
    description: str | None,
    now: datetime,
) -> str:
    subnet_id = new_id("subnet")
    # No pool index: a user's subnet is no block of the host pool (its VPC is its own network).
    session.add(
        Subnet(
            subnet_id=subnet_id,
            account_id=account_id,
            region=region,
            vpc_id=vpc_id,
            name=name,
            cidr=cidr,
            description=description,
            pool_index=None,
            created_at=now,
        )
    )
    session.flush()
    return subnet_id


def update_subnet(session: Session, subnet_id: str, name: str | None, description: str | None) -> None:
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = name
    if description is not None:
        values["description"] = description
    if values:
        session.execute(update(Subnet).where(Subnet.subnet_id == subnet_id).values(**values))


def subnet_users(session: Session, subnet_id: str) -> list[str]:
    """Pods on the subnet or holding an address of it (pods being deleted included),
    oldest first."""
    on = session.scalars(select(Pod.pod_id).where(Pod.subnet_id == subnet_id).order_by(Pod.created_at, Pod.pod_id))
    holding = session.scalars(
        select(IpAllocation.pod_id).where(IpAllocation.subnet_id == subnet_id).order_by(IpAllocation.pod_id)
    )
    return list(dict.fromkeys([*on, *holding]))


def remove_subnet(session: Session, subnet_id: str) -> None:
    session.execute(delete(Subnet).where(Subnet.subnet_id == subnet_id))


def count_subnets(session: Session, vpc_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Subnet).where(Subnet.vpc_id == vpc_id)) or 0)
