"""An index for describePods: its order, per account and region

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:05:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_pods_listing", "pods", ["account_id", "region", "created_at", "pod_id"])


def downgrade() -> None:
    op.drop_index("ix_pods_listing", table_name="pods")
