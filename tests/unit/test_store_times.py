"""Times in the store: aware datetimes in, aware UTC datetimes out, on SQLite (which keeps
no zone) and on PostgreSQL (which answers in its session's zone: the tests' cluster runs
in Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from podyard.store.db import Database
from podyard.store.tables import Account


def test_a_time_comes_back_as_the_same_instant_in_utc(db_url: str) -> None:
    db = Database(db_url)
    db.migrate()
    beijing = datetime(2026, 1, 1, 8, 30, 15, tzinfo=timezone(timedelta(hours=8)))
    try:
        with db.write() as s:
            s.add(Account(account_id="acct-1", name="a", access_key="AK", sealed_secret_key="SK", created_at=beijing))
        with db.read() as s:
            stored = s.scalar(select(Account.created_at))
        with pytest.raises(StatementError, match="naive datetime"), db.write() as s:
            s.add(
                Account(
                    account_id="acct-2",
                    name="b",
                    access_key="BK",
                    sealed_secret_key="SK",
                    created_at=datetime(2026, 1, 1),
                )
            )
    finally:
        db.close()
    assert stored == beijing and stored is not None and stored.tzinfo is UTC
    assert stored.isoformat() == "2026-01-01T00:30:15+00:00"
