"""VPCs, subnets and security groups, and the allocation of pod addresses in subnets."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from podyard.domain import network
from podyard.domain.errors import AlreadyExists
from podyard.domain.ids import new_id
from podyard.domain.records import NetworkRecord, SubnetRecord
from podyard.domain.security_groups import DEFAULT_PRIORITY, Rule, default_group_rules
from podyard.store.inserts import RETRIES, insert_unless_taken
from podyard.store.tables import IpAllocation, SecurityGroup, SecurityGroupRule, Subnet, Vpc


def rule_row(
    group_id: str, position: int, rule: Rule, description: str | None, priority: int, now: datetime
) -> SecurityGroupRule:
    return SecurityGroupRule(
        rule_id=new_id("sgr"),
        security_group_id=group_id,
        position=position,
        direction=rule.direction,
        protocol=rule.protocol,
        address_prefix=rule.address_prefix,
        from_port=rule.from_port,
        to_port=rule.to_port,
        priority=priority,
        description=description,
        created_at=now,
    )


def _subnet_record(s: Subnet) -> SubnetRecord:
    return SubnetRecord(subnet_id=s.subnet_id, vpc_id=s.vpc_id, cidr=s.cidr, account_id=s.account_id, region=s.region)


def default_network(session: Session, account_id: str, region: str) -> NetworkRecord | None:
    """The account's default network: its subnet from the host pool (the only kind with a
    pool index), that subnet's VPC and the VPC's default security group (marked
    ``is_default``; failing that, its first). Not found by name:
    users may rename the default VPC, or call a VPC of their own "default"."""
    row = session.execute(
        select(Subnet.vpc_id, Subnet.subnet_id, Subnet.cidr, SecurityGroup.security_group_id)
        .join(SecurityGroup, SecurityGroup.vpc_id == Subnet.vpc_id)
        .where(Subnet.account_id == account_id, Subnet.region == region, Subnet.pool_index.is_not(None))
        .order_by(
            Subnet.created_at,
            SecurityGroup.is_default.desc(),
            SecurityGroup.created_at,
            SecurityGroup.security_group_id,
        )
        .limit(1)
    ).first()
    if row is None:
        return None
    return NetworkRecord(vpc_id=row[0], subnet_id=row[1], subnet_cidr=row[2], security_group_id=row[3])


def create_default_network(session: Session, account_id: str, region: str, pool: str, prefix: int) -> NetworkRecord:
    """A default VPC, one subnet from the next free block of the host pool, and a security
    group that allows all egress and all ingress from the VPC. Another account's network
    made meanwhile may take the block (PostgreSQL): then the next one is chosen."""
    now = datetime.now(UTC).replace(microsecond=0)  # whole seconds, as the services' clock
    for _ in range(RETRIES):
        used = session.scalar(select(func.max(Subnet.pool_index)))
        index = 0 if used is None else used + 1
        vpc, subnet, sg = _default_network_rows(account_id, region, network.nth_subnet(pool, prefix, index), index, now)
        if insert_unless_taken(session, [vpc], [subnet, sg]):
            return NetworkRecord(
                vpc_id=vpc.vpc_id,
                subnet_id=subnet.subnet_id,
                subnet_cidr=subnet.cidr,
                security_group_id=sg.security_group_id,
            )
    raise AlreadyExists(f"the subnet pool {pool} is being allocated concurrently; retry")


def _default_network_rows(
    account_id: str, region: str, cidr: str, index: int, now: datetime
) -> tuple[Vpc, Subnet, SecurityGroup]:
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
        is_default=True,
        created_at=now,
    )
    sg.rules = [
        rule_row(sg.security_group_id, i, r, None, DEFAULT_PRIORITY, now)
        for i, r in enumerate(default_group_rules(cidr))
    ]
    return vpc, subnet, sg


def subnet(session: Session, account_id: str, region: str, subnet_id: str) -> SubnetRecord | None:
    s = session.get(Subnet, subnet_id)
    if s is None or s.account_id != account_id or s.region != region:
        return None
    return _subnet_record(s)


def subnet_by_id(session: Session, subnet_id: str) -> SubnetRecord | None:
    s = session.get(Subnet, subnet_id)
    return _subnet_record(s) if s else None


def security_groups(session: Session, account_id: str, region: str, ids: list[str]) -> dict[str, tuple[str, str]]:
    """The account's security groups among ``ids``: id → (name, vpc id). Locked (on
    PostgreSQL) until the transaction ends, so a concurrent delete of a group waits."""
    rows = session.scalars(
        select(SecurityGroup)
        .where(
            SecurityGroup.security_group_id.in_(ids),
            SecurityGroup.account_id == account_id,
            SecurityGroup.region == region,
        )
        .with_for_update()
    )
    return {r.security_group_id: (r.name, r.vpc_id) for r in rows}


def security_group_names(session: Session, ids: list[str]) -> dict[str, str]:
    c = SecurityGroup.__table__.c
    return {
        r.security_group_id: r.name
        for r in session.execute(select(c.security_group_id, c.name).where(c.security_group_id.in_(ids)))
    }


class SubnetAllocations:
    """A subnet's addresses in use, asked by range (domain/network.Allocations): queries
    over the (subnet, number) index, never a read of every address."""

    def __init__(self, session: Session, subnet_id: str) -> None:
        self._session, self._subnet_id = session, subnet_id

    def taken(self, lo: int, hi: int) -> set[int]:
        c = IpAllocation.__table__.c
        q = select(c.number).where(c.subnet_id == self._subnet_id, c.number >= lo, c.number <= hi)
        return {n for (n,) in self._session.execute(q)}

    def first_free(self, start: int) -> int:
        # Counting an index range is a walk in the database, not rows brought back: check
        # the common case (all taken from start to the highest) and else halve the range.
        if not self.taken(start, start):
            return start
        c = IpAllocation.__table__.c
        mine = c.subnet_id == self._subnet_id
        highest = int(self._session.execute(select(func.max(c.number)).where(mine)).scalar_one())

        def full(lo: int, hi: int) -> bool:
            count = select(func.count()).where(mine, c.number >= lo, c.number <= hi)
            return int(self._session.execute(count).scalar_one()) == hi - lo + 1

        lo, hi = start, highest  # start is taken; is everything up to hi?
        if full(lo, hi):
            return hi + 1
        while lo < hi:  # the first free number lies in (lo, hi]; lo..mid all taken or not
            mid = (lo + hi) // 2
            if full(start, mid):
                lo = mid + 1
            else:
                hi = mid
        return lo


def allocate(session: Session, subnet_id: str, address: str, pod_id: str) -> None:
    number = int.from_bytes(socket.inet_aton(address), "big")
    session.add(IpAllocation(subnet_id=subnet_id, address=address, pod_id=pod_id, number=number))


def release(session: Session, pod_id: str) -> None:
    session.execute(delete(IpAllocation).where(IpAllocation.pod_id == pod_id))
