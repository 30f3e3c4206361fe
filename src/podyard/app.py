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
from podyard.disks.errors import DiskFailure
from podyard.disks.host import DiskHost
from podyard.domain.records import AccountRecord, NetworkRecord
from podyard.network.dataplane import Dataplane
from podyard.network.names import Names
from podyard.runtime.protocol import Runtime
from podyard.services import accounts
from podyard.services.context import ServiceContext
from podyard.services.disk_space import host_capacity
from podyard.services.registries import image_refusal
from podyard.services.resolving import system_resolver
from podyard.services.sessions import Sessions, StreamLimits
from podyard.store.crypto import SecretBox, load_key
from podyard.store.db import Database
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "admin-credentials.json"


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox(load_key(settings.secret_key, settings.data_dir / "secret.key"))


def service_context(settings: Settings, db: Database) -> ServiceContext:
    return ServiceContext(
        db=db,
        secret_box=secret_box(settings),
        region=settings.served_region,
        quota_defaults=settings.quota_defaults(),
        network_pool=settings.network_pool,
        subnet_prefix=settings.subnet_prefix,
        elastic_ip_pool=settings.elastic_ip_pool,
        registry_policy=settings.registry_policy,
        resolve=system_resolver(settings.registry_resolve_timeout_seconds),
        disk_capacity=host_capacity(settings.data_dir),
        disk_overcommit=settings.disk_overcommit,
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
    db.migrate(secret_box(settings))
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
            Authenticator(
                self.keys.lookup, settings.signature_window_seconds, replay_per_account=settings.replay_per_account
            ),
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
        self.runtime, self._close_runtime, dataplane, disk_host = await self.runtime_factory()
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
            registry_check=self._registry_check,
            disk_host=disk_host,
        )
        self.ctx.nudge = self.reconciler.nudge
        self.ctx.nudge_vpc = self.reconciler.networks.nudge
        self.ctx.runtime = self.runtime
        if disk_host is not None:
            self.ctx.disk_maker = "control"
            self.ctx.nudge_disks = self.reconciler.disks.nudge
        elif self.ctx.disk_maker is None:
            # No disk part (the fake runtime): the store's word on disks is final at once.
            self.ctx.disk_maker = "at_once"
        await self.reconciler.start()
        if self.on_ready:
            self.on_ready(creds)

    async def _registry_check(self, ref: str) -> str | None:
        """The createPods check of an image's registry, again before each pull (names resolve off the loop)."""
        return await asyncio.to_thread(image_refusal, self.ctx.registry_policy, self.ctx.resolve, ref)

    async def drain(self, seconds: float = 5.0) -> None:
        """The first step of a shutdown: new requests are refused (503), open streams say
        why and close, and their sessions get up to ``seconds`` to end."""
        self.gateway.closing.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.ctx.sessions.streaming() and loop.time() < deadline:
            await asyncio.sleep(0.05)

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
    async def build() -> tuple[Runtime, Callable[[], Any], Dataplane, DiskHost]:
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

        return runtime, close, dataplane_for(settings), disk_host_for(settings)

    return build


RUNNING_LOCK = "podyard.lock"  # held by `podyard serve` for as long as it runs


def hold_running_lock(settings: Settings) -> Any:
    """Mark the data directory as served (released when the process ends, even killed);
    None if another podyard serves it already."""
    import fcntl

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    f = open(settings.data_dir / RUNNING_LOCK, "w")  # noqa: SIM115 - held until the process ends
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


async def take_down(settings: Settings, *, purge: bool = False) -> list[str]:
    """Everything this podyard made on the machine, removed: its pods (its private Podman
    started for the purpose), its host network (namespaces, interfaces, routes, nftables
    tables, shaping), its mounts and run directory; with ``purge`` its data directory too
    (database, keys, images, logs). What the store asks for stays unless purged: a later
    `podyard serve` makes the pods again. Returns what was done, to print."""
    import shutil

    from podyard.runtime.podman.client import LibpodClient
    from podyard.runtime.podman.driver import PodmanRuntime
    from podyard.runtime.podman.service import PodmanService, unmount_under

    done = []
    service = PodmanService(settings.data_dir, podman=settings.podman)
    await service.start()
    client = LibpodClient(str(service.socket))
    try:
        runtime = PodmanRuntime(client, settings.data_dir / "logs")
        pods = await runtime.observe_all()
        failed = [e for e in await asyncio.gather(*(_remove(runtime, p) for p in pods)) if e]
        done.append(f"removed {len(pods) - len(failed)} pod(s)")
        done += [f"could not remove {e}" for e in failed]
    finally:
        await client.close()
        await service.stop()
    dataplane = dataplane_for(settings)
    await dataplane.teardown()
    done.append(f"removed the host network of podyard {dataplane.names.tag}")
    try:
        await disk_host_for(settings).teardown(remove=purge)
        done.append("removed its disks and their pool" if purge else "unmounted its disks (their data stays)")
    except DiskFailure as e:  # a pod that could not be removed still holds one
        done.append(f"could not unmount its disks: {e.message}")
    for path in (service.run_dir, settings.data_dir):
        unmount_under(path)
    shutil.rmtree(service.run_dir, ignore_errors=True)
    if purge:
        shutil.rmtree(settings.data_dir, ignore_errors=True)
        done.append(f"removed {settings.data_dir}")
    return done


async def _remove(runtime: Runtime, pod_id: str, attempts: int = 5) -> str | None:
    """Remove a pod; Podman sometimes finds a container's shm mount still busy for a
    moment ("device or resource busy"), so a few tries. What failed, or None."""
    from podyard.runtime.protocol import RuntimeFailure

    for attempt in range(attempts):
        try:
            await runtime.remove_pod(pod_id)
            return None
        except RuntimeFailure as e:
            if attempt == attempts - 1:
                return f"pod {pod_id}: {e.message}"
            await asyncio.sleep(0.5 * 2**attempt)
    return None


def dataplane_for(settings: Settings) -> Dataplane:
    """The host network of this instance, for its elastic IP pools."""
    return Dataplane(
        Names.for_instance(settings.instance_name),
        settings.elastic_ip_inner_pool,
        routable=not ipaddress.IPv4Network(settings.elastic_ip_pool).is_loopback,
    )


def disk_host_for(settings: Settings) -> DiskHost:
    """The disks of this instance: its pool, loop devices and mounts under DATA_DIR/disks."""
    return DiskHost(settings.data_dir, settings.instance_name, pool_size=settings.disk_pool_size)


def fake_runtime(runtime: Runtime) -> Callable[[], Any]:
    async def build() -> tuple[Runtime, Callable[[], Any], None, None]:
        async def close() -> None:
            return None

        return runtime, close, None, None

    return build
