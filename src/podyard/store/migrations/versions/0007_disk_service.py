"""The disk service: disks, snapshots, and createDisks/createSnapshot client tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disks",
        sa.Column("disk_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("az", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("disk_type", sa.String(length=16), nullable=False),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("iops", sa.Integer(), nullable=True),
        sa.Column("fs_type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("snapshot_id", sa.String(length=32), nullable=True),
        sa.Column("pod_id", sa.String(length=32), nullable=True),
        sa.Column("volume_name", sa.String(length=63), nullable=True),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_delete", sa.Boolean(), nullable=False),
        sa.Column("format_pending", sa.Boolean(), nullable=False),
        sa.Column("charge_mode", sa.String(length=32), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"]),
        sa.PrimaryKeyConstraint("disk_id"),
    )
    op.create_index("ix_disks_listing", "disks", ["account_id", "region", "created_at", "disk_id"])
    op.create_index("ix_disks_status", "disks", ["status"])
    op.create_index("ix_disks_pod_id", "disks", ["pod_id"])
    op.create_table(
        "snapshots",
        sa.Column("snapshot_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("disk_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("size_gb", sa.Integer(), nullable=False),
        sa.Column("fs_type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"]),
        sa.PrimaryKeyConstraint("snapshot_id"),
    )
    op.create_index("ix_snapshots_listing", "snapshots", ["account_id", "region", "created_at", "snapshot_id"])
    op.create_index("ix_snapshots_disk_id", "snapshots", ["disk_id"])
    op.create_index("ix_snapshots_status", "snapshots", ["status"])
    op.create_table(
        "disk_client_tokens",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("resource_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.account_id"]),
        sa.PrimaryKeyConstraint("account_id", "region", "action", "token"),
    )


def downgrade() -> None:
    op.drop_table("disk_client_tokens")
    op.drop_table("snapshots")
    op.drop_table("disks")
