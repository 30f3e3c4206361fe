"""Security groups: the default group marked, rule priorities, elastic IP names; and the
rules every existing group starts with

A group without rules gets the one rule every new group has (all egress); the default
group of an account's default VPC also gets all ingress from its VPC's CIDR.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import secrets
import string
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_ALPHABET = string.ascii_lowercase + string.digits


def _rule_id() -> str:
    # domain/ids.new_id("sgr"), written out: a migration does not change with the code.
    return "sgr-" + "".join(secrets.choice(_ALPHABET) for _ in range(10))


def upgrade() -> None:
    op.add_column("security_groups", sa.Column("is_default", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "security_group_rules", sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("100"))
    )
    op.add_column("elastic_ips", sa.Column("name", sa.String(length=32), nullable=True))

    conn = op.get_bind()
    vpcs = sa.table("vpcs", sa.column("vpc_id"), sa.column("name"), sa.column("cidr"))
    groups = sa.table(
        "security_groups",
        sa.column("security_group_id"),
        sa.column("vpc_id"),
        sa.column("name"),
        sa.column("is_default", sa.Boolean()),
        sa.column("created_at"),
    )
    rules = sa.table(
        "security_group_rules",
        sa.column("rule_id"),
        sa.column("security_group_id"),
        sa.column("position", sa.Integer()),
        sa.column("direction", sa.Integer()),
        sa.column("protocol", sa.Integer()),
        sa.column("address_prefix"),
        sa.column("from_port", sa.Integer()),
        sa.column("to_port", sa.Integer()),
        sa.column("priority", sa.Integer()),
        sa.column("description"),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    # The default group of a default VPC: the first group named "default" made in it.
    cidrs: dict[str, str] = {}
    for vpc_id, cidr in conn.execute(sa.select(vpcs.c.vpc_id, vpcs.c.cidr).where(vpcs.c.name == "default")):
        first = conn.execute(
            sa.select(groups.c.security_group_id)
            .where(groups.c.vpc_id == vpc_id, groups.c.name == "default")
            .order_by(groups.c.created_at, groups.c.security_group_id)
            .limit(1)
        ).scalar()
        if first is not None:
            conn.execute(sa.update(groups).where(groups.c.security_group_id == first).values(is_default=True))
            cidrs[first] = cidr

    with_rules = sa.select(rules.c.security_group_id).distinct()
    bare = conn.execute(
        sa.select(groups.c.security_group_id).where(groups.c.security_group_id.not_in(with_rules))
    ).scalars()
    now = datetime.now(UTC)
    rows = []
    for group_id in bare:
        wanted = [(0, cidrs[group_id])] if group_id in cidrs else []
        wanted.append((1, "0.0.0.0/0"))
        for position, (direction, prefix) in enumerate(wanted):
            rows.append(
                {
                    "rule_id": _rule_id(),
                    "security_group_id": group_id,
                    "position": position,
                    "direction": direction,
                    "protocol": 300,
                    "address_prefix": prefix,
                    "from_port": 0,
                    "to_port": 0,
                    "priority": 100,
                    "description": None,
                    "created_at": now,
                }
            )
    if rows:
        op.bulk_insert(rules, rows)


def downgrade() -> None:
    # The rules the upgrade added stay: they are what the groups allowed all along.
    with op.batch_alter_table("elastic_ips") as batch:
        batch.drop_column("name")
    with op.batch_alter_table("security_group_rules") as batch:
        batch.drop_column("priority")
    with op.batch_alter_table("security_groups") as batch:
        batch.drop_column("is_default")
