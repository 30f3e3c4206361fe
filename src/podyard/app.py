"""Wiring: the store, the use cases, the runtime, the reconciler and the gateway, as one ASGI app."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ipaddress
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.types import Receive, Scope, Send

from podyard.api.auth import Authenticator
from podyard.api.gateway import Gateway
from podyard.config import Settings
from podyard.control.reconciler import Reconciler, ReconcilerSettings
from podyard.domain.records import AccountRecord, NetworkRecord
from podyard.network.dataplane import Dataplane
from podyard.network.names import Names
from podyard.runtime.protocol import Runtime
from podyard.services import accounts
from podyard.services.context import ServiceContext
from podyard.services.sessions import Sessions, StreamLimits
from podyard.store.crypto import SecretBox, load_key
from podyard.store.db import Database
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "admin-credentials.json"


def service_context(settings: Settings, db: Database) -> ServiceContext:
    return ServiceContext(
        db=db,
        secret_box=SecretBox(load_key(settings.secret_key, settings.data_dir / "secret.key")),
        region=settings.served_region,
        quota_defaults=settings.quota_defaults(),
        network_pool=settings.network_pool,
        subnet_prefix=settings.subnet_prefix,
        elastic_ip_pool=settings.elastic_ip_pool,
        sessions=Sessions(
            StreamLimits(
                per_container=settings.exec_per_container,
                per_account=settings.exec_per_account,
                exec_id_ttl=settings.exec_id_ttl_seconds,
                idle_seconds=settings.exec_idle_seconds,
            )
        ),
    )


def open_store(settings: Settings) -> Database:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)
    db = Database(settings.db_url)
    db.migrate()
    return db


def credentials(account: AccountRecord, network: NetworkRecord, settings: Settings) -> dict[str, str]:
    return {
        "accessKey": account.access_key,
        "secretKey": account.secret_key,
        "endpoint": settings.public_endpoint,
        "regionId": settings.region,
        "vpcId": network.vpc_id,
        "subnetId": network.subnet_id,
        "subnetCidr": network.subnet_cidr,
        "securityGroupId": network.security_group_id,
    }


def write_credentials(path: Path, creds: dict[str, str]) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)
        f.write("\n")
    os.chmod(path, 0o600)


@dataclass
class Started:
    """Filled in once the app has started: what the CLI prints."""

    credentials: dict[str, str] | None = None


class PodyardApp:
    """The ASGI application. ``runtime_factory`` builds the runtime at start-up (inside the
    event loop) and returns it with a closer and the host network's dataplane (None: no
    host network, for the fake runtime)."""

    def __init__(
        self,
        settings: Settings,
        runtime_factory: Callable[[], Any],
        on_ready: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.db = open_store(settings)
        self.ctx = service_context(settings, self.db)
        self.keys = accounts.KeyCache(self.ctx)
        self.gateway = Gateway(
            self.ctx,
            Authenticator(self.keys.lookup, settings.signature_window_seconds),
            settings.max_body_bytes,
        )
        self.runtime_factory = runtime_factory
        self.on_ready = on_ready
        self.runtime: Runtime | None = None
        self.reconciler: Reconciler | None = None
        self._close_runtime: Callable[[], Any] | None = None

    async def startup(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="podyard"))
        account, network, _ = await self.db.run(accounts.first_account, self.ctx)
        creds = credentials(account, network, self.settings)
        path = self.settings.data_dir / CREDENTIALS_FILE
        if not path.exists() or json.loads(path.read_text()) != creds:
            write_credentials(path, creds)
        self.runtime, self._close_runtime, dataplane = await self.runtime_factory()
        self.reconciler = Reconciler(
            ObservedStore(self.db, self.ctx.secret_box),
            self.runtime,
            ReconcilerSettings(
                pids_limit=self.settings.pids_limit,
                backoff_initial=self.settings.restart_backoff_seconds,
                backoff_cap=self.settings.restart_backoff_max_seconds,
                resync_seconds=self.settings.resync_seconds,
                elastic_ip_pool=self.settings.elastic_ip_pool,
                inner_pool=self.settings.elastic_ip_inner_pool,
            ),
            dataplane=dataplane,
        )
        self.ctx.nudge = self.reconciler.nudge
        self.ctx.nudge_vpc = self.reconciler.networks.nudge
        self.ctx.runtime = self.runtime
        await self.reconciler.start()
        if self.on_ready:
            self.on_ready(creds)

    async def shutdown(self) -> None:
        if self.reconciler:
            await self.reconciler.stop()
        if self._close_runtime:
            with contextlib.suppress(Exception):
                await self._close_runtime()
        self.db.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.gateway(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            await self.gateway.websocket(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except BaseException as e:
                    log.exception("podyard failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def podman_runtime(settings: Settings) -> Callable[[], Any]:
    async def build() -> tuple[Runtime, Callable[[], Any], Dataplane]:
        from podyard.runtime.podman.client import LibpodClient
        from podyard.runtime.podman.driver import PodmanRuntime
        from podyard.runtime.podman.service import PodmanService

        service = PodmanService(
            settings.data_dir,
            podman=settings.podman,
            insecure_registries=settings.insecure_registries,
            pids_limit=settings.pids_limit,
        )
        await service.start()
        client = LibpodClient(str(service.socket))
        runtime = PodmanRuntime(client, settings.data_dir / "logs", userns_size=settings.userns_size)
        keeper = asyncio.create_task(runtime.logs.run(), name="log-keeper")

        async def close() -> None:
            keeper.cancel()
            await client.close()
            await service.stop()

        return runtime, close, dataplane_for(settings)

    return build


def dataplane_for(settings: Settings) -> Dataplane:
    """The host network of this instance, for its elastic IP pools."""
    return Dataplane(
        Names.for_instance(settings.instance_name),
        settings.elastic_ip_inner_pool,
        routable=not ipaddress.IPv4Network(settings.elastic_ip_pool).is_loopback,
    )


def fake_runtime(runtime: Runtime) -> Callable[[], Any]:
    async def build() -> tuple[Runtime, Callable[[], Any], None]:
        async def close() -> None:
            return None

        return runtime, close, None

    return build
