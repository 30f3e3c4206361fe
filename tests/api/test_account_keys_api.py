"""Accounts' secret keys are sealed at rest like registry secrets (migration 0006 seals
those of an older database): no clear secret key in the database's files, and the SDK
still authenticates, by the access key, which stays clear."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from drive.jd import Account
from podyard.runtime.fake import FakeRuntime
from podyard.store.db import MIGRATIONS, Database
from tests.served import served, settings_for


def stored_bytes(db: Database, request: pytest.FixtureRequest) -> bytes:
    """What the database's files hold, as an intruder with a copy of them would read it."""
    if db.is_sqlite:
        path = Path(db.engine.url.database or "")
        return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    return bytes(request.getfixturevalue("postgres").stored_bytes(db.url))


def test_secret_keys_are_sealed_at_rest(fake_server, request: pytest.FixtureRequest) -> None:
    other = fake_server.new_account("team")
    raw = stored_bytes(fake_server.app.db, request)
    for account in (fake_server.admin, other):
        assert account.access_key.encode() in raw  # looked up by it: clear
        assert account.secret_key.encode() not in raw
    with fake_server.app.db.read() as s:
        rows = dict(s.execute(text("SELECT access_key, sealed_secret_key FROM accounts")).all())
    assert rows.keys() == {fake_server.admin.access_key, other.access_key}
    assert other.secret_key not in rows[other.access_key]
    for account in (fake_server.admin, other):
        assert fake_server.jd(account).pods()["totalCount"] == 0


def _upgrade(db: Database, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection_url"] = db.url
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


ACCESS_KEY = "9A1C6E2B7D0F4A3E8B5C1D6F2A7E0B3C"
SECRET_KEY = "old-secret-kept-in-the-clear-until-0006x"


def test_an_older_database_is_sealed_and_still_authenticates(
    tmp_path: Path, empty_db_url: str, request: pytest.FixtureRequest
) -> None:
    old = Database(empty_db_url)
    _upgrade(old, "0005")
    with old.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO accounts (account_id, name, access_key, secret_key, verified, in_arrears, created_at) "
                "VALUES ('acct-old', 'admin', :ak, :sk, TRUE, FALSE, :t)"
            ),
            {"ak": ACCESS_KEY, "sk": SECRET_KEY, "t": datetime(2026, 1, 1, tzinfo=UTC)},
        )
    with pytest.raises(RuntimeError, match="needs podyard's secret key"):
        old.migrate()  # accounts to seal, and no key to seal them with: nothing changes
    old.close()

    settings = settings_for(tmp_path / "data", database_url=empty_db_url)
    with served(settings, FakeRuntime(tmp_path / "logs")) as (server, _):
        assert (server.admin.access_key, server.admin.secret_key) == (ACCESS_KEY, SECRET_KEY)
        a = server.admin
        old_client = Account(ACCESS_KEY, SECRET_KEY, a.subnet_id, a.security_group_id, a.subnet_cidr, a.vpc_id)
        assert server.jd(old_client).pods()["totalCount"] == 0
        assert SECRET_KEY.encode() not in stored_bytes(server.app.db, request)
        with server.app.db.read() as s:
            [(sealed,)] = s.execute(text("SELECT sealed_secret_key FROM accounts")).all()
        assert SECRET_KEY not in sealed
