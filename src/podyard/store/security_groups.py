"""Security groups and their rules, as the VPC service's actions read and change them.
Every read is scoped by account and region; a group of another account is not found."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from podyard.domain import security_groups as sg
from podyard.domain.records import SecurityGroupRecord, SecurityGroupRuleRecord
from podyard.store.networks import rule_row
from podyard.store.paging import page_rows
from podyard.store.tables import Pod, SecurityGroup, SecurityGroupRule


@dataclass(frozen=True)
class GroupFilter:
    ids: Sequence[str] | None = None
    names: Sequence[str] | None = None
    vpc_ids: Sequence[str] | None = None


def _rule_record(r: SecurityGroupRule) -> SecurityGroupRuleRecord:
    return SecurityGroupRuleRecord(
        rule_id=r.rule_id,
        direction=r.direction,
        protocol=r.protocol,
        address_prefix=r.address_prefix,
        from_port=r.from_port,
        to_port=r.to_port,
        priority=r.priority,
        description=r.description,
        created_at=r.created_at,
    )


def _users(session: Session, account_id: str, region: str, group_ids: Sequence[str]) -> dict[str, list[str]]:
    """group id → the pods (ids, by age) whose interface carries it."""
    c = Pod.__table__.c
    out: dict[str, list[str]] = {g: [] for g in group_ids}
    rows = session.execute(
        select(c.pod_id, c.security_group_ids)
        .where(c.account_id == account_id, c.region == region)
        .order_by(c.created_at, c.pod_id)
    )
    for pod_id, groups in rows:
        for g in groups:
            if g in out:
                out[g].append(pod_id)
    return out


def _interfaces(session: Session, pod_ids: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    wanted = sorted({p for ids in pod_ids.values() for p in ids})
    c = Pod.__table__.c
    nic = {
        r.pod_id: r.network_interface_id
        for r in session.execute(select(c.pod_id, c.network_interface_id).where(c.pod_id.in_(wanted)))
    }
    return {g: tuple(nic[p] for p in ids if p in nic) for g, ids in pod_ids.items()}


def _records(session: Session, groups: Sequence[SecurityGroup]) -> list[SecurityGroupRecord]:
    if not groups:
        return []
    first = groups[0]
    users = _users(session, first.account_id, first.region, [g.security_group_id for g in groups])
    interfaces = _interfaces(session, users)
    return [
        SecurityGroupRecord(
            security_group_id=g.security_group_id,
            account_id=g.account_id,
            region=g.region,
            vpc_id=g.vpc_id,
            name=g.name,
            description=g.description,
            is_default=g.is_default,
            created_at=g.created_at,
            rules=tuple(_rule_record(r) for r in g.rules),
            network_interface_ids=interfaces[g.security_group_id],
        )
        for g in groups
    ]


def _row(session: Session, account_id: str, region: str, group_id: str, *, lock: bool = False) -> SecurityGroup | None:
    q = select(SecurityGroup).where(
        SecurityGroup.security_group_id == group_id,
        SecurityGroup.account_id == account_id,
        SecurityGroup.region == region,
    )
    return session.scalar(q.with_for_update() if lock else q)


def get(
    session: Session, account_id: str, region: str, group_id: str, *, lock: bool = False
) -> SecurityGroupRecord | None:
    """The account's group; ``lock`` holds it (on PostgreSQL) until the transaction ends,
    so changes to one group's rules, and its deletion, run one after the other."""
    row = _row(session, account_id, region, group_id, lock=lock)
    return _records(session, [row])[0] if row else None


def page(
    session: Session, account_id: str, region: str, f: GroupFilter, number: int, size: int
) -> tuple[list[SecurityGroupRecord], int]:
    q = select(SecurityGroup).where(SecurityGroup.account_id == account_id, SecurityGroup.region == region)
    if f.ids is not None:
        q = q.where(SecurityGroup.security_group_id.in_(f.ids))
    if f.names is not None:
        q = q.where(SecurityGroup.name.in_(f.names))
    if f.vpc_ids is not None:
        q = q.where(SecurityGroup.vpc_id.in_(f.vpc_ids))
    rows, total = page_rows(session, q, (SecurityGroup.created_at, SecurityGroup.security_group_id), number, size)
    return _records(session, rows), total


def count_in_vpc(session: Session, vpc_id: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(SecurityGroup).where(SecurityGroup.vpc_id == vpc_id)) or 0
    )


def insert_group(
    session: Session,
    group_id: str,
    account_id: str,
    region: str,
    vpc_id: str,
    name: str,
    description: str | None,
    rules: Sequence[sg.Rule],
    now: datetime,
) -> None:
    group = SecurityGroup(
        security_group_id=group_id,
        account_id=account_id,
        region=region,
        vpc_id=vpc_id,
        name=name,
        description=description,
        is_default=False,
        created_at=now,
    )
    group.rules = [rule_row(group_id, i, r, None, sg.DEFAULT_PRIORITY, now) for i, r in enumerate(rules)]
    session.add(group)
    session.flush()


def set_attributes(session: Session, group_id: str, values: dict[str, Any]) -> None:
    if values:
        session.execute(update(SecurityGroup).where(SecurityGroup.security_group_id == group_id).values(**values))


def add_rules(
    session: Session, group_id: str, rules: Sequence[tuple[sg.Rule, str | None, int]], now: datetime
) -> list[str]:
    """Append rules (what they allow, a description, a priority) to the group; their ids."""
    last = session.scalar(
        select(func.max(SecurityGroupRule.position)).where(SecurityGroupRule.security_group_id == group_id)
    )
    start = 0 if last is None else last + 1
    rows = [rule_row(group_id, start + i, r, d, p, now) for i, (r, d, p) in enumerate(rules)]
    session.add_all(rows)
    session.flush()
    return [r.rule_id for r in rows]


def update_rule(session: Session, group_id: str, rule_id: str, values: dict[str, Any]) -> None:
    session.execute(
        update(SecurityGroupRule)
        .where(SecurityGroupRule.security_group_id == group_id, SecurityGroupRule.rule_id == rule_id)
        .values(**values)
    )


def remove_rules(session: Session, group_id: str, rule_ids: Sequence[str]) -> None:
    session.execute(
        delete(SecurityGroupRule).where(
            SecurityGroupRule.security_group_id == group_id, SecurityGroupRule.rule_id.in_(rule_ids)
        )
    )


def users(session: Session, account_id: str, region: str, group_id: str) -> list[str]:
    """The pods whose interface carries the group, oldest first."""
    return _users(session, account_id, region, [group_id])[group_id]


def delete_group(session: Session, group_id: str) -> None:
    session.execute(delete(SecurityGroupRule).where(SecurityGroupRule.security_group_id == group_id))
    session.execute(delete(SecurityGroup).where(SecurityGroup.security_group_id == group_id))
