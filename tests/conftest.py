"""Shared fixtures: a podyard app on a fake runtime (api ring)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from podyard.app import PodyardApp, fake_runtime
from podyard.config import Settings
from podyard.runtime.fake import FakeRuntime
from podyard.services import accounts
from tests.harness import free_port
from tests.jd import Account, Jd


@dataclass
class FakeServer:
    app: PodyardApp
    runtime: FakeRuntime
    endpoint: str
    admin: Account
    loop: asyncio.AbstractEventLoop

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


@pytest.fixture
def fake_server(tmp_path: Path) -> Iterator[FakeServer]:
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "data",
        listen=f"127.0.0.1:{port}",
        network_pool="10.240.0.0/16",
        restart_backoff_seconds=0.05,
        resync_seconds=0.5,
        quota_pod=20,
        quota_container=40,
    )
    runtime = FakeRuntime(tmp_path / "logs")
    ready: dict[str, Any] = {}
    app = PodyardApp(settings, fake_runtime(runtime), on_ready=lambda creds: ready.update(creds))
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
    yield FakeServer(app, runtime, f"127.0.0.1:{port}", Account.from_creds(creds), loops[0])
    server.should_exit = True
    thread.join(10)
