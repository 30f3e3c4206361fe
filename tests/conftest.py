"""Shared fixtures: a podyard app on a fake runtime (api ring), and the databases it and
the store's tests run on, SQLite and PostgreSQL (a throwaway cluster, tests/pg.py)."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from drive.harness import free_port
from drive.jd import Account, Jd
from podyard.app import PodyardApp, fake_runtime
from podyard.config import Settings
from podyard.runtime.fake import FakeRuntime
from podyard.services import accounts
from tests.pg import REQUIRED_ENV, PostgresCluster, Unavailable


@dataclass
class FakeServer:
    app: PodyardApp
    runtime: FakeRuntime
    endpoint: str
    admin: Account
    loop: asyncio.AbstractEventLoop
    # What registry names resolve to (the app's resolver; no DNS in tests): a name not
    # here does not resolve.
    hosts: dict[str, list[str]] = field(default_factory=dict)

    def jd(self, account: Account | None = None) -> Jd:
        return Jd(self.endpoint, account or self.admin)

    def new_account(self, name: str, *, verified: bool = True) -> Account:
        account, network = accounts.create_account(self.app.ctx, name, verified=verified)
        return Account(
            account.access_key,
            account.secret_key,
            network.subnet_id,
            network.security_group_id,
            network.subnet_cidr,
            network.vpc_id,
        )

    def in_loop(self, fn: Callable[[], Any]) -> Any:
        """Run fn in the app's event loop (the fake runtime is not thread-safe)."""
        fut = asyncio.run_coroutine_threadsafe(_call(fn), self.loop)
        return fut.result(10)

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until the reconciler has nothing queued."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            busy = not self.in_loop(self.app.reconciler.idle)
            quiet = 0 if busy else quiet + 1
            if quiet >= 3:
                return
            time.sleep(0.02)


async def _call(fn: Callable[[], Any]) -> Any:
    return fn()


def _resolve(hosts: dict[str, list[str]], name: str) -> list[str]:
    if name not in hosts:
        raise OSError(f"{name}: Name or service not known")
    return hosts[name]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """The session's PostgreSQL cluster, started on first use. Where it cannot start, its
    tests skip, or fail when the test command requires PostgreSQL (scripts/test does)."""
    try:
        cluster = PostgresCluster()
    except Unavailable as e:
        if os.environ.get(REQUIRED_ENV) == "1":
            pytest.fail(f"{e} ({REQUIRED_ENV}=1)")
        pytest.skip(str(e))
    yield cluster
    cluster.stop()


DATABASES = ["sqlite", "postgresql"]


def _database(request: pytest.FixtureRequest, tmp_path: Path, *, migrated: bool) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'podyard.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    url = cluster.new_database(migrated=migrated)
    yield url
    cluster.drop_database(url)


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own, on each database podyard runs on; on PostgreSQL its
    tables are made already (Database.migrate() finds nothing to do)."""
    yield from _database(request, tmp_path, migrated=True)


@pytest.fixture(params=DATABASES)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of this test's own, on each database podyard runs on: for the
    migrations."""
    yield from _database(request, tmp_path, migrated=False)


@pytest.fixture
def fake_server(request: pytest.FixtureRequest, tmp_path: Path, db_url: str) -> Iterator[FakeServer]:
    """``@pytest.mark.podyard_settings(registry_deny=[...])``: settings of the test's own."""
    marker = request.node.get_closest_marker("podyard_settings")
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        listen=f"127.0.0.1:{port}",
        network_pool="10.240.0.0/16",
        restart_backoff_seconds=0.05,
        resync_seconds=0.5,
        quota_pod=20,
        quota_container=40,
        **(marker.kwargs if marker else {}),
    )
    runtime = FakeRuntime(tmp_path / "logs")
    ready: dict[str, Any] = {}
    app = PodyardApp(settings, fake_runtime(runtime), on_ready=lambda creds: ready.update(creds))
    hosts: dict[str, list[str]] = {}
    app.ctx.resolve = lambda name: _resolve(hosts, name)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on", log_level="warning"))
    loops: list[asyncio.AbstractEventLoop] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the podyard test server did not start")
        time.sleep(0.01)
    creds = json.loads((settings.data_dir / "admin-credentials.json").read_text())
    yield FakeServer(app, runtime, f"127.0.0.1:{port}", Account.from_creds(creds), loops[0], hosts)
    server.should_exit = True
    thread.join(10)
