"""Pods' addresses as numbers too: the free-address search walks an index

``ip_allocations.number`` is the address as an integer (IPv4), filled in for the rows
there are, with a unique index per subnet: createPods finds the lowest free addresses
with a query over that index instead of reading every address of the subnet.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ip_allocations", sa.Column("number", sa.BigInteger(), nullable=True))
    rows = sa.table(
        "ip_allocations", sa.column("subnet_id", sa.String), sa.column("address", sa.String),
        sa.column("number", sa.BigInteger),
    )  # fmt: skip
    conn = op.get_bind()
    for subnet_id, address in conn.execute(sa.select(rows.c.subnet_id, rows.c.address)).all():
        number = int(ipaddress.IPv4Address(address))
        conn.execute(
            rows.update().where(rows.c.subnet_id == subnet_id, rows.c.address == address).values(number=number)
        )
    op.create_index("ix_ip_allocations_number", "ip_allocations", ["subnet_id", "number"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_ip_allocations_number", table_name="ip_allocations")
    op.drop_column("ip_allocations", "number")
