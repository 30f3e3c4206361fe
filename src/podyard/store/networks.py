"""VPCs, subnets and security groups, and the allocation of pod addresses in subnets."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from podyard.domain import network
from podyard.domain.ids import new_id
from podyard.domain.records import NetworkRecord, SubnetRecord
from podyard.store.tables import IpAllocation, SecurityGroup, Subnet, Vpc


def _subnet_record(s: Subnet) -> SubnetRecord:
    return SubnetRecord(subnet_id=s.subnet_id, vpc_id=s.vpc_id, cidr=s.cidr, account_id=s.account_id, region=s.region)


def default_network(session: Session, account_id: str, region: str) -> NetworkRecord | None:
    vpc = session.scalar(select(Vpc).where(Vpc.account_id == account_id, Vpc.region == region, Vpc.name == "default"))
    if vpc is None:
        return None
    subnet = session.scalar(select(Subnet).where(Subnet.vpc_id == vpc.vpc_id).order_by(Subnet.created_at))
    sg = session.scalar(
        select(SecurityGroup).where(SecurityGroup.vpc_id == vpc.vpc_id).order_by(SecurityGroup.created_at)
    )
    assert subnet is not None and sg is not None
    return NetworkRecord(
        vpc_id=vpc.vpc_id, subnet_id=subnet.subnet_id, subnet_cidr=subnet.cidr, security_group_id=sg.security_group_id
    )


def create_default_network(session: Session, account_id: str, region: str, pool: str, prefix: int) -> NetworkRecord:
    """A default VPC, one subnet from the next free block of the host pool, and a security group."""
    now = datetime.now(UTC)
    used = session.scalar(select(func.max(Subnet.pool_index)))
    index = 0 if used is None else used + 1
    cidr = network.nth_subnet(pool, prefix, index)
    vpc = Vpc(vpc_id=new_id("vpc"), account_id=account_id, region=region, name="default", cidr=cidr, created_at=now)
    subnet = Subnet(
        subnet_id=new_id("subnet"),
        account_id=account_id,
        region=region,
        vpc_id=vpc.vpc_id,
        name="default",
        cidr=cidr,
        pool_index=index,
        created_at=now,
    )
    sg = SecurityGroup(
        security_group_id=new_id("sg"),
        account_id=account_id,
        region=region,
        vpc_id=vpc.vpc_id,
        name="default",
        created_at=now,
    )
    session.add_all([vpc])
    session.flush()
    session.add_all([subnet, sg])
    session.flush()
    return NetworkRecord(
        vpc_id=vpc.vpc_id, subnet_id=subnet.subnet_id, subnet_cidr=cidr, security_group_id=sg.security_group_id
    )


def subnet(session: Session, account_id: str, region: str, subnet_id: str) -> SubnetRecord | None:
    s = session.get(Subnet, subnet_id)
    if s is None or s.account_id != account_id or s.region != region:
        return None
    return _subnet_record(s)


def subnet_by_id(session: Session, subnet_id: str) -> SubnetRecord | None:
    s = session.get(Subnet, subnet_id)
    return _subnet_record(s) if s else None


def security_groups(session: Session, account_id: str, region: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The account's security groups among ``ids``: id → (name, vpc id)."""
    rows = session.scalars(
        select(SecurityGroup).where(
            SecurityGroup.security_group_id.in_(ids),
            SecurityGroup.account_id == account_id,
            SecurityGroup.region == region,
        )
    )
    return {r.security_group_id: (r.name, r.vpc_id) for r in rows}


def security_group_names(session: Session, ids: list[str]) -> dict[str, str]:
    c = SecurityGroup.__table__.c
    return {
        r.security_group_id: r.name
        for r in session.execute(select(c.security_group_id, c.name).where(c.security_group_id.in_(ids)))
    }


def used_addresses(session: Session, subnet_id: str) -> set[int]:
    c = IpAllocation.__table__.c
    rows = session.execute(select(c.address).where(c.subnet_id == subnet_id))
    return {int.from_bytes(socket.inet_aton(address), "big") for (address,) in rows}


def allocate(session: Session, subnet_id: str, address: str, pod_id: str) -> None:
    session.add(IpAllocation(subnet_id=subnet_id, address=address, pod_id=pod_id))


def release(session: Session, pod_id: str) -> None:
    session.execute(delete(IpAllocation).where(IpAllocation.pod_id == pod_id))
