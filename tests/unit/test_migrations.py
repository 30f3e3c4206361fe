"""The Alembic migrations build exactly the schema the tables declare, from an empty
database, on SQLite and on PostgreSQL; on PostgreSQL, also when replicas migrate at once."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from podyard.store.db import Database
from podyard.store.tables import Base
from tests.pg import PostgresCluster


def test_migrations_match_the_tables(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    db.migrate()
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        db.close()
    assert diff == []


def test_replicas_starting_together_migrate_one_after_the_other(postgres: PostgresCluster) -> None:
    """Three processes migrate one empty PostgreSQL database at once, as replicas sharing
    it do when they start together: each waits for the one before, none fails."""
    url = postgres.new_database(migrated=False)
    start = "import sys; from podyard.store.db import Database; Database(sys.argv[1]).migrate()"
    replicas = [
        subprocess.Popen([sys.executable, "-c", start, url], stderr=subprocess.PIPE, text=True) for _ in range(3)
    ]
    errors = [r.communicate(timeout=120)[1] for r in replicas]
    assert [r.returncode for r in replicas] == [0, 0, 0], errors
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.close()
        postgres.drop_database(url)
