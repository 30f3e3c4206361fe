"""The elastic IP store under races: an address or a pod taken between the check and the
insert (what concurrent transactions on PostgreSQL can do) is a retry or a clear 409,
never a database error escaping the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from podyard.domain.errors import AlreadyExists, FailedPrecondition
from podyard.store import elastic_ips as eips
from podyard.store.db import Database
from podyard.store.tables import Account, ElasticIp

NOW = datetime(2026, 1, 1, tzinfo=UTC)
POOL = "127.100.0.0/29"


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    with database.write() as s:
        s.add(Account(account_id="acct-1", name="a", access_key="AK", sealed_secret_key="SK", created_at=NOW))
    yield database
    database.close()


def _new(pod_id: str | None = None) -> eips.NewElasticIp:
    return eips.NewElasticIp("acct-1", "cn-north-1", None, 5, "bgp", (), "postpaid_by_duration", pod_id)


def _short(free: int) -> Exception:
    return FailedPrecondition(f"{free} free")


def _addresses(db: Database) -> list[str]:
    with db.read() as s:
        return sorted(s.scalars(select(ElasticIp.address)))


def test_a_lost_race_for_an_address_retries_with_the_next_free_one(db: Database) -> None:
    with db.write() as s:
        eips.insert_allocating(s, POOL, [_new()], NOW, on_short=_short)
    calls: list[int] = []

    def stale_once(s: Any) -> set[int]:
        # The first look misses the address another transaction holds by now.
        calls.append(1)
        return set() if len(calls) == 1 else eips.used_addresses(s)

    with db.write() as s:
        made = eips.insert_allocating(s, POOL, [_new(), _new()], NOW, on_short=_short, used=stale_once)
    assert [a for _, a in made] == ["127.100.0.2", "127.100.0.3"] and len(calls) == 2
    assert _addresses(db) == ["127.100.0.1", "127.100.0.2", "127.100.0.3"]


def test_losing_every_race_is_a_409_and_inserts_nothing(db: Database) -> None:
    with db.write() as s:
        eips.insert_allocating(s, POOL, [_new()], NOW, on_short=_short)
    with pytest.raises(AlreadyExists, match="being allocated concurrently"), db.write() as s:
        eips.insert_allocating(s, POOL, [_new(), _new()], NOW, on_short=_short, used=lambda s: set())
    assert _addresses(db) == ["127.100.0.1"]
    with pytest.raises(AlreadyExists, match=r"127\.100\.0\.1 was taken concurrently"), db.write() as s:
        eips.insert_at(s, _new(), "127.100.0.1", NOW)
    assert _addresses(db) == ["127.100.0.1"]


def test_a_short_pool_raises_what_the_caller_says(db: Database) -> None:
    with pytest.raises(FailedPrecondition, match="6 free"), db.write() as s:
        eips.insert_allocating(s, POOL, [_new()] * 7, NOW, on_short=_short)
    assert _addresses(db) == []


def test_a_pod_given_a_second_address_concurrently_is_a_409(db: Database) -> None:
    with db.write() as s:
        [(first, _)] = eips.insert_allocating(s, POOL, [_new("pod-1")], NOW, on_short=_short)
        [(second, _)] = eips.insert_allocating(s, POOL, [_new()], NOW, on_short=_short)
    with pytest.raises(AlreadyExists, match="pod pod-1 was given an elastic IP concurrently"), db.write() as s:
        eips.associate(s, second, "pod-1")
    with db.read() as s:
        assert {r.elastic_ip_id: r.pod_id for r in s.scalars(select(ElasticIp))} == {first: "pod-1", second: None}
