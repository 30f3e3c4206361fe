"""Pods' revisions: a number that grows with every change of a pod or of its containers

``pods.revision`` is bumped by triggers, on SQLite and on PostgreSQL alike, whenever the
pod's row is updated or one of its ``pod_containers`` rows is inserted, updated or
deleted. No code of podyard writes it, so no write can forget it: the API's reads keep a
record by (pod, revision) and read a pod's whole row and containers only when it moved.
A later migration that rebuilds either table (SQLite's copy-and-rename) must make the
triggers again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A pod's own update bumps it once: the trigger's own update does not match its WHEN.
SQLITE = [
    """CREATE TRIGGER pods_revision AFTER UPDATE ON pods WHEN NEW.revision = OLD.revision
       BEGIN UPDATE pods SET revision = OLD.revision + 1 WHERE pod_id = NEW.pod_id; END""",
    """CREATE TRIGGER pod_containers_revision_insert AFTER INSERT ON pod_containers
       BEGIN UPDATE pods SET revision = revision + 1 WHERE pod_id = NEW.pod_id; END""",
    """CREATE TRIGGER pod_containers_revision_update AFTER UPDATE ON pod_containers
       BEGIN UPDATE pods SET revision = revision + 1 WHERE pod_id IN (OLD.pod_id, NEW.pod_id); END""",
    """CREATE TRIGGER pod_containers_revision_delete AFTER DELETE ON pod_containers
       BEGIN UPDATE pods SET revision = revision + 1 WHERE pod_id = OLD.pod_id; END""",
]
SQLITE_DROP = ["pods_revision", "pod_containers_revision_insert", "pod_containers_revision_update",
               "pod_containers_revision_delete"]  # fmt: skip

POSTGRESQL = [
    """CREATE FUNCTION podyard_pod_revision() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN NEW.revision := OLD.revision + 1; RETURN NEW; END $$""",
    """CREATE TRIGGER pods_revision BEFORE UPDATE ON pods FOR EACH ROW
       WHEN (NEW.revision = OLD.revision) EXECUTE FUNCTION podyard_pod_revision()""",
    """CREATE FUNCTION podyard_container_revision() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN UPDATE pods SET revision = revision + 1 WHERE pod_id = OLD.pod_id; END IF;
         IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.pod_id <> OLD.pod_id) THEN
           UPDATE pods SET revision = revision + 1 WHERE pod_id = NEW.pod_id;
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER pod_containers_revision AFTER INSERT OR UPDATE OR DELETE ON pod_containers
       FOR EACH ROW EXECUTE FUNCTION podyard_container_revision()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER pod_containers_revision ON pod_containers",
    "DROP FUNCTION podyard_container_revision()",
    "DROP TRIGGER pods_revision ON pods",
    "DROP FUNCTION podyard_pod_revision()",
]


def upgrade() -> None:
    op.add_column("pods", sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
    for statement in SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_DROP:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for statement in POSTGRESQL_DROP:
            op.execute(statement)
    op.drop_column("pods", "revision")
