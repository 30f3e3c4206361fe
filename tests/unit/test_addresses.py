"""Address assignment in a subnet: given addresses checked, the rest the lowest free; the
store answers the search by range over its index, on SQLite and PostgreSQL."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from podyard.domain.network import AddressRequest, assign_addresses
from podyard.store import networks
from podyard.store.db import Database
from podyard.store.tables import Account, Subnet, Vpc
from tests.unit.test_security_group_migration import _upgrade

CIDR = "10.9.0.0/28"  # .2 to .14 assignable


def _n(ip: str) -> int:
    return int(ipaddress.IPv4Address(ip))


class Taken:
    """Allocations held in a set, counting the questions asked."""

    def __init__(self, used: set[int]) -> None:
        self.used, self.asked = used, 0

    def taken(self, lo: int, hi: int) -> set[int]:
        self.asked += 1
        return {n for n in self.used if lo <= n <= hi}

    def first_free(self, start: int) -> int:
        self.asked += 1
        while start in self.used:
            start += 1
        return start


def test_counted_secondaries_follow_each_primary() -> None:
    out = assign_addresses(CIDR, Taken({_n("10.9.0.3")}), AddressRequest(count=2, secondary_count=2), "nic")
    assert out == [("10.9.0.2", ("10.9.0.4", "10.9.0.5")), ("10.9.0.6", ("10.9.0.7", "10.9.0.8"))]


def test_given_addresses_come_first_and_are_not_handed_out_again() -> None:
    want = AddressRequest(count=1, primary="10.9.0.4", secondaries=("10.9.0.2",), secondary_count=1)
    assert assign_addresses(CIDR, Taken(set()), want, "nic") == [("10.9.0.4", ("10.9.0.2", "10.9.0.3"))]


@pytest.mark.parametrize(
    ("want", "used", "error", "text"),
    [
        (AddressRequest(1, secondaries=("10.9.1.2",)), set(), InvalidArgument, "nic.secondaryIpAddresses[0]"),
        (AddressRequest(1, secondaries=("10.9.0.1",)), set(), InvalidArgument, "reserved"),
        (AddressRequest(1, primary="10.9.0.5", secondaries=("10.9.0.5",)), set(), InvalidArgument, "twice"),
        (AddressRequest(1, secondaries=("10.9.0.6",)), {_n("10.9.0.6")}, AlreadyExists, "in use"),
        (AddressRequest(1, secondary_count=13), set(), FailedPrecondition, "13 free address(es), 14 asked"),
    ],
)
def test_refusals_name_the_field(want: AddressRequest, used: set[int], error: type, text: str) -> None:
    with pytest.raises(error) as e:
        assign_addresses(CIDR, Taken(used), want, "nic")
    assert text in e.value.message


@settings(max_examples=200, deadline=None)
@given(used=st.sets(st.integers(0, 63)), count=st.integers(1, 70))
def test_the_lowest_free_addresses_whatever_is_taken(used: set[int], count: int) -> None:
    base = _n("10.8.0.0")
    taken = Taken({base + n for n in used})
    assignable = [n for n in range(2, 63) if n not in used]
    try:
        out = assign_addresses("10.8.0.0/26", taken, AddressRequest(count=count), "nic")
    except FailedPrecondition:
        assert count > len(assignable)
        return
    assert [_n(ip) - base for ip, _ in out] == assignable[:count]


def test_a_full_run_is_skipped_in_one_question() -> None:
    base = _n("10.0.0.0")
    taken = Taken({base + n for n in range(2, 60_000)})
    [(ip, _)] = assign_addresses("10.0.0.0/16", taken, AddressRequest(count=1), "nic")
    assert ip == "10.0.234.96" and taken.asked <= 3  # 60,000: 234 × 256 + 96


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    database.migrate()
    with database.write() as s:
        s.add(Account(account_id="acct-1", name="a", access_key="AK", sealed_secret_key="SK", created_at=NOW))
        s.flush()
        s.add(Vpc(vpc_id="vpc-1", account_id="acct-1", region="r", name="v", cidr="10.0.0.0/16", created_at=NOW))
        s.flush()
        for sid in ("subnet-1", "subnet-2"):
            s.add(Subnet(subnet_id=sid, account_id="acct-1", region="r", vpc_id="vpc-1", name=sid,
                         cidr="10.0.0.0/16", created_at=NOW))  # fmt: skip
    yield database
    database.close()


def test_the_store_answers_by_range_within_its_subnet(db: Database) -> None:
    used = [2, 3, 4, 7, 8, 300]
    with db.write() as s:
        for n in used:
            networks.allocate(s, "subnet-1", str(ipaddress.IPv4Address(_n("10.0.0.0") + n)), f"pod-{n}")
        networks.allocate(s, "subnet-2", "10.0.0.5", "pod-x")  # another subnet: not in the way
    base = _n("10.0.0.0")
    with db.read() as s:
        allocations = networks.SubnetAllocations(s, "subnet-1")
        assert allocations.taken(base, base + 1000) == {base + n for n in used}
        assert allocations.taken(base + 5, base + 6) == set()
        assert [allocations.first_free(base + n) - base for n in (2, 4, 5, 7, 300, 301)] == [5, 5, 5, 9, 301, 301]
        out = assign_addresses("10.0.0.0/16", allocations, AddressRequest(count=4), "nic")
    assert [ip for ip, _ in out] == ["10.0.0.5", "10.0.0.6", "10.0.0.9", "10.0.0.10"]


def test_the_migration_numbers_the_addresses_there_are(empty_db_url: str) -> None:
    db = Database(empty_db_url)
    try:
        _upgrade(db, "0007")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO accounts (account_id, name, access_key, sealed_secret_key, verified, "
                    "in_arrears, created_at) VALUES ('acct-1', 'a', 'AK', 'SK', TRUE, FALSE, :t)"
                ),
                {"t": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO vpcs (vpc_id, account_id, region, name, cidr, created_at) "
                    "VALUES ('vpc-1', 'acct-1', 'r', 'v', '10.0.0.0/16', :t)"
                ),
                {"t": NOW},
            )
            conn.execute(
                text(
                    "INSERT INTO subnets (subnet_id, account_id, region, vpc_id, name, cidr, created_at) "
                    "VALUES ('subnet-1', 'acct-1', 'r', 'vpc-1', 's', '10.0.0.0/16', :t)"
                ),
                {"t": NOW},
            )
            for address in ("10.0.0.2", "10.0.1.7"):
                conn.execute(text("INSERT INTO ip_allocations (subnet_id, address, pod_id) "
                                  "VALUES ('subnet-1', :a, 'pod-1')"), {"a": address})  # fmt: skip
        _upgrade(db, "head")
        with db.read() as s:
            assert networks.SubnetAllocations(s, "subnet-1").taken(0, 2**32) == {_n("10.0.0.2"), _n("10.0.1.7")}
    finally:
        db.close()
