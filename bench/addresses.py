"""The free-address search of createPods with many pods in one subnet (issue 12): the
store's range questions (store/networks.SubnetAllocations) against reading every address
of the subnet, as createPods did before. SQLite, in a temporary directory.

    .venv/bin/python -m bench.addresses [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import ipaddress
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from podyard.domain.network import AddressRequest, assign_addresses
from podyard.store import networks
from podyard.store.db import Database
from podyard.store.tables import Account, IpAllocation, Subnet, Vpc

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CIDR = "10.0.0.0/8"
ROUNDS = 20


def _database(work: Path) -> Database:
    db = Database(f"sqlite:///{work / 'podyard.db'}")
    db.migrate()
    with db.write() as s:
        s.add(Account(account_id="a", name="a", access_key="AK", sealed_secret_key="SK", created_at=NOW))
        s.flush()
        s.add(Vpc(vpc_id="v", account_id="a", region="r", name="v", cidr=CIDR, created_at=NOW))
        s.flush()
        s.add(Subnet(subnet_id="s", account_id="a", region="r", vpc_id="v", name="s", cidr=CIDR, created_at=NOW))
    return db


def _read_all(db: Database) -> float:
    c = IpAllocation.__table__.c
    with db.read() as s:
        t = time.perf_counter()
        for _ in range(ROUNDS):
            rows = s.execute(select(c.address).where(c.subnet_id == "s"))
            {int.from_bytes(socket.inet_aton(a), "big") for (a,) in rows}
        return (time.perf_counter() - t) / ROUNDS


def _search(db: Database) -> float:
    with db.read() as s:
        t = time.perf_counter()
        for _ in range(ROUNDS):
            assign_addresses(CIDR, networks.SubnetAllocations(s, "s"), AddressRequest(count=1), "nic")
        return (time.perf_counter() - t) / ROUNDS


@click.command()
@click.option("--sizes", default="1000,10000,50000", help="Pods' addresses in the subnet, one measure each.")
def main(sizes: str) -> None:
    base = int(ipaddress.IPv4Address("10.0.0.0"))
    with tempfile.TemporaryDirectory() as work:
        db = _database(Path(work))
        made = 2
        print("addresses  read every one (before)  range questions (now)  ratio")
        for n in (int(x) for x in sizes.split(",")):
            with db.write() as s:
                for k in range(made, n + 2):
                    networks.allocate(s, "s", str(ipaddress.IPv4Address(base + k)), f"pod-{k}")
            made = n + 2
            before, now = _read_all(db), _search(db)
            print(f"{n:>9}  {before * 1000:>20.2f} ms  {now * 1000:>17.2f} ms  {now / before:>5.2f}x")
        db.close()


if __name__ == "__main__":
    main()
