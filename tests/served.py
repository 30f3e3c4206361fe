"""A podyard app on the fake runtime, served by uvicorn in a thread with the settings a
test gives (the ``fake_server`` fixture's way): over TLS when the settings say so, with
the certificate ``podyard serve`` would use (podyard/tls.py), on data a test prepared."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from drive.harness import free_port
from drive.jd import Account
from podyard.app import PodyardApp, fake_runtime
from podyard.config import Settings
from podyard.runtime.fake import FakeRuntime
from podyard.tls import ServerTls, server_tls
from tests.conftest import FakeServer


def settings_for(data_dir: Path, **more: Any) -> Settings:
    """The fake_server fixture's settings on a port of its own; ``more`` overrides."""
    port = free_port()
    given: dict[str, Any] = {
        "data_dir": data_dir,
        "listen": f"127.0.0.1:{port}",
        "network_pool": "10.240.0.0/16",
        "restart_backoff_seconds": 0.05,
        "resync_seconds": 0.5,
        **more,
    }
    return Settings(**given)


@contextmanager
def served(settings: Settings, runtime: FakeRuntime) -> Iterator[tuple[FakeServer, ServerTls | None]]:
    tls = server_tls(settings)
    app = PodyardApp(settings, fake_runtime(runtime))
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        lifespan="on",
        log_level="warning",
        ssl_certfile=tls.cert_file if tls else None,
        ssl_keyfile=tls.key_file if tls else None,
    )
    server = uvicorn.Server(config)
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
    try:
        yield FakeServer(app, runtime, settings.listen, Account.from_creds(creds), loops[0]), tls
    finally:
        server.should_exit = True
        thread.join(10)
