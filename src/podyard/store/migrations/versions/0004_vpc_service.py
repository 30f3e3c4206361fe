"""The VPC service: descriptions, security group rules, elastic IPs, secondary IPs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("vpcs", sa.Column("description", sa.Text(), nullable=True))
    op.add_column("security_groups", sa.Column("description", sa.Text(), nullable=True))
    with op.batch_alter_table("subnets") as batch:
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
        batch.alter_column("pool_index", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("pods") as batch:
        batch.add_column(sa.Column("secondary_ips", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "security_group_rules",
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("security_group_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("direction", sa.Integer(), nullable=False),
        sa.Column("protocol", sa.Integer(), nullable=False),
        sa.Column("address_prefix", sa.String(length=64), nullable=False),
        sa.Column("from_port", sa.Integer(), nullable=False),
        sa.Column("to_port", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["security_group_id"], ["security_groups.security_group_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("rule_id"),
    )
    op.create_index("ix_security_group_rules_security_group_id", "security_group_rules", ["security_group_id"])
    op.create_table(
        "elastic_ips",
        sa.Column("elastic_ip_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("bandwidth_mbps", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("pod_id", sa.String(length=32), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("charge_mode", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"]),
        sa.PrimaryKeyConstraint("elastic_ip_id"),
        sa.UniqueConstraint("address"),
        sa.UniqueConstraint("pod_id"),
    )
    op.create_index("ix_elastic_ips_account_id", "elastic_ips", ["account_id"])


def downgrade() -> None:
    op.drop_table("elastic_ips")
    op.drop_table("security_group_rules")
    with op.batch_alter_table("pods") as batch:
        batch.drop_column("secondary_ips")
    with op.batch_alter_table("subnets") as batch:
        batch.drop_column("description")
        batch.alter_column("pool_index", existing_type=sa.Integer(), nullable=False)
    op.drop_column("security_groups", "description")
    op.drop_column("vpcs", "description")
