"""Accounts' secret keys sealed at rest, like registry secrets

Each account's secret key is sealed with podyard's secret box (AES-256-GCM, the key of
``secret_key``/``DATA_DIR/secret.key``), bound to the account id and access key, and
kept as base64 in the same column, renamed ``sealed_secret_key`` (92 characters of the
128). The access key stays clear: requests are looked up by it. A database with
accounts needs the box (``Database.migrate(secret_box)``); an empty one does not.

Only an UPDATE and a column rename, both native on SQLite and PostgreSQL: SQLite cannot
rebuild ``accounts`` in a migration (other tables' foreign keys point at it, and foreign
keys cannot be switched off inside the migration's transaction). The clear keys would
linger in the database's files (old row versions, free pages, the WAL): the migration
asks ``Database.migrate`` to rewrite them once it has committed (``Database.scrub``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 12:00:00
"""

from __future__ import annotations

import base64
from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _bound(account_id: str, access_key: str) -> str:
    # store/accounts.bound_to, written out: a migration does not change with the code.
    return f"account/{account_id}/{access_key}"


def _accounts(secret_column: str) -> Any:
    return sa.table(
        "accounts", sa.column("account_id", sa.String()), sa.column("access_key", sa.String()), sa.column(secret_column)
    )


def _box(rows: int) -> Any:
    box = context.config.attributes.get("secret_box")
    if box is None and rows:
        raise RuntimeError(
            "migration 0006 seals the accounts' secret keys and needs podyard's secret key: "
            "run it through podyard (Database.migrate(secret_box))"
        )
    return box


def upgrade() -> None:
    conn = op.get_bind()
    accounts = _accounts("secret_key")
    rows = conn.execute(sa.select(accounts.c.account_id, accounts.c.access_key, accounts.c.secret_key)).all()
    box = _box(len(rows))
    for account_id, access_key, secret_key in rows:
        sealed = base64.b64encode(box.seal(secret_key.encode(), _bound(account_id, access_key))).decode()
        conn.execute(sa.update(accounts).where(accounts.c.account_id == account_id).values(secret_key=sealed))
    op.alter_column("accounts", "secret_key", new_column_name="sealed_secret_key")
    if rows:  # the clear keys linger in the files (old row versions, free pages) until rewritten
        context.config.attributes.setdefault("scrub", set()).add("accounts")


def downgrade() -> None:
    op.alter_column("accounts", "sealed_secret_key", new_column_name="secret_key")
    conn = op.get_bind()
    accounts = _accounts("secret_key")
    rows = conn.execute(sa.select(accounts.c.account_id, accounts.c.access_key, accounts.c.secret_key)).all()
    box = _box(len(rows))
    for account_id, access_key, sealed in rows:
        clear = box.open(base64.b64decode(sealed), _bound(account_id, access_key)).decode()
        conn.execute(sa.update(accounts).where(accounts.c.account_id == account_id).values(secret_key=clear))
