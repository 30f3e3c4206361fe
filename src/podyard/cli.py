"""The ``podyard`` command: ``serve`` runs the service, ``accounts`` manages accounts."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import click

from podyard.config import Settings, is_loopback, load_settings
from podyard.domain.quotas import QUOTA_TYPES
from podyard.tls import ServerTls, server_tls

_settings_options = [
    click.option("--config", "config_file", type=click.Path(path_type=Path), help="TOML config file."),
    click.option("--data-dir", type=click.Path(path_type=Path), help="Where podyard keeps its state."),
    click.option("--region", help="The region served (default cn-north-1)."),
]


def settings_options(f: Any) -> Any:
    for option in reversed(_settings_options):
        f = option(f)
    return f


def tls_text(tls: ServerTls | None) -> str:
    if tls is None:
        return ""
    trust = (
        f"  CA file:       {tls.ca_file} (clients trust it: export REQUESTS_CA_BUNDLE={tls.ca_file})\n"
        f"  CA SHA-256:    {tls.ca_fingerprint}\n"
        if tls.ca_file
        else f"  certificate:   {tls.cert_file}\n"
    )
    return f"  TLS SHA-256:   {tls.fingerprint}{' (new)' if tls.issued else ''}\n{trust}"


def usage_text(creds: dict[str, str], settings: Settings, tls: ServerTls | None = None) -> str:
    ak, sk, ep, region = creds["accessKey"], creds["secretKey"], creds["endpoint"], creds["regionId"]
    scheme = "https" if tls else "http"
    streams = (
        "  (jdc 1.2.9 opens exec-start and attach as plain ws://: over TLS, see the README's\n"
        '  "jdc exec and attach over TLS")\n'
        if tls
        else ""
    )
    return f"""\
podyard is ready: {scheme}://{ep} (region {region})
{tls_text(tls)}  accessKey:     {ak}
  secretKey:     {sk}
  vpcId:         {creds["vpcId"]}
  subnetId:      {creds["subnetId"]} ({creds["subnetCidr"]})
  securityGroup: {creds["securityGroupId"]}
  saved in:      {settings.data_dir / "admin-credentials.json"}

Python SDK (pip install jdcloud-sdk):
  from jdcloud_sdk.core.credential import Credential
  from jdcloud_sdk.core.config import Config
  from jdcloud_sdk.services.pod.client.PodClient import PodClient
  client = PodClient(Credential("{ak}", "{sk}"), Config("{ep}", scheme="{scheme}"))

jdc CLI (pip install jdcloud-cli==1.2.9 pyyaml==5.3.1):
  jdc configure add --profile podyard --access-key {ak} --secret-key {sk} \\
      --region-id {region} --endpoint {ep} --scheme {scheme}
  jdc pod describe-pods
{streams}"""


# After SIGTERM, how long requests in flight may take before they are cut.
SHUTDOWN_GRACE_SECONDS = 30


@click.group()
def main() -> None:
    """podyard: a self-hosted pod service speaking the JD Cloud Pod API v1."""


@main.command()
@settings_options
@click.option("--listen", help="HOST:PORT to serve on (default 127.0.0.1:8000; TLS unless loopback).")
@click.option("--tls", type=click.Choice(["auto", "on", "off"]), help="auto (default): TLS unless loopback.")
@click.option("--tls-cert", type=click.Path(path_type=Path), help="PEM certificate (chain) to serve.")
@click.option("--tls-key", type=click.Path(path_type=Path), help="Its PEM private key.")
@click.option("--endpoint", help="host:port clients use, if not the listen address.")
@click.option("--log-level", help="debug, info, warning or error.")
def serve(config_file: Path | None, **flags: Any) -> None:
    """Run podyard: the API, the reconciler and a private Podman."""
    import uvicorn

    from podyard.app import PodyardApp, hold_running_lock, podman_runtime

    settings = load_settings(config_file, **flags)
    running = hold_running_lock(settings)
    if running is None:
        raise click.ClickException(f"another podyard serves {settings.data_dir}")
    tls = server_tls(settings)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    if tls is None and not is_loopback(settings.host):
        logging.getLogger("podyard").warning(
            "serving plain HTTP on %s: requests, keys' signatures and streams travel in clear, and a "
            "replayed request with a changed nonce is not detected (the Python SDK does not sign it)",
            settings.listen,
        )

    def ready(creds: dict[str, str]) -> None:
        click.echo(usage_text(creds, settings, tls), nl=False)

    app = PodyardApp(settings, podman_runtime(settings), on_ready=ready)

    class Server(uvicorn.Server):
        """On SIGTERM or SIGINT: podyard refuses new work and ends its streams first;
        then uvicorn stops listening and waits for the requests in flight."""

        async def shutdown(self, sockets: Any = None) -> None:
            await app.drain()
            await super().shutdown(sockets)

    server = Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            lifespan="on",
            log_level=settings.log_level.lower(),
            access_log=settings.log_level.lower() == "debug",
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            # No keep-alive pings: jdc's client answers a ping inside a blocking recv()
            # and then waits for a data frame with a 10 s socket timeout, so a ping to
            # an idle jdc shell ends it ("Connection timed out"). Sessions that go
            # quiet are ended by podyard's own idle limit (exec_idle_seconds).
            ws_ping_interval=None,
            ssl_certfile=tls.cert_file if tls else None,
            ssl_keyfile=tls.key_file if tls else None,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
    )
    server.run()


@main.group()
def accounts() -> None:
    """Accounts, their standing (real-name verification, arrears) and quotas."""


def _ctx(config_file: Path | None, flags: dict[str, Any]) -> Any:
    from podyard.app import open_store, service_context

    settings = load_settings(config_file, **flags)
    return settings, service_context(settings, open_store(settings))


@accounts.command("create")
@settings_options
@click.argument("name")
@click.option("--unverified", is_flag=True, help="Without real-name verification (createPods is refused).")
@click.option("--json", "as_json", is_flag=True, help="Print the keys and default network as JSON.")
def accounts_create(config_file: Path | None, name: str, unverified: bool, as_json: bool, **flags: Any) -> None:
    """Create an account; print its keys and default network."""
    from podyard.app import credentials
    from podyard.domain.errors import ApiError
    from podyard.services import accounts as svc

    settings, ctx = _ctx(config_file, flags)
    try:
        account, network = svc.create_account(ctx, name, verified=not unverified)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    creds = credentials(account, network, settings)
    if as_json:
        click.echo(json.dumps(creds, indent=2))
    else:
        for k, v in creds.items():
            click.echo(f"{k}: {v}")


@accounts.command("list")
@settings_options
@click.option("--json", "as_json", is_flag=True)
def accounts_list(config_file: Path | None, as_json: bool, **flags: Any) -> None:
    """List accounts with their standing."""
    from podyard.services import accounts as svc

    _, ctx = _ctx(config_file, flags)
    rows = [
        {"name": a.name, "accessKey": a.access_key, "verified": a.verified, "inArrears": a.in_arrears}
        for a in svc.list_accounts(ctx)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            click.echo(f"{r['name']}\t{r['accessKey']}\tverified={r['verified']}\tarrears={r['inArrears']}")


@accounts.command("set")
@settings_options
@click.argument("name")
@click.option("--verified/--unverified", default=None, help="Real-name verification.")
@click.option("--arrears/--no-arrears", default=None, help="Billing arrears (start and delete refused).")
def accounts_set(
    config_file: Path | None, name: str, verified: bool | None, arrears: bool | None, **flags: Any
) -> None:
    """Change an account's standing."""
    from podyard.domain.errors import ApiError
    from podyard.services import accounts as svc

    _, ctx = _ctx(config_file, flags)
    try:
        a = svc.set_standing(ctx, name, verified=verified, in_arrears=arrears)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"{a.name}: verified={a.verified} arrears={a.in_arrears}")


@accounts.command("quota")
@settings_options
@click.argument("name")
@click.argument("resource", type=click.Choice(QUOTA_TYPES))
@click.argument("limit", type=int)
def accounts_quota(config_file: Path | None, name: str, resource: str, limit: int, **flags: Any) -> None:
    """Set an account's quota of a resource in the served region (subnet and
    security_group count per VPC, securityGroupRule per security group)."""
    from podyard.domain.errors import ApiError
    from podyard.services import accounts as svc

    _, ctx = _ctx(config_file, flags)
    try:
        svc.set_quota(ctx, name, resource, limit)
    except ApiError as e:
        raise click.ClickException(e.message) from None
    click.echo(f"{name}: {resource} quota {limit}")


@main.command("down")
@settings_options
@click.option("--purge", is_flag=True, help="Also delete the data directory: database, keys, images, logs.")
def down(config_file: Path | None, purge: bool, **flags: Any) -> None:
    """Remove every pod, network and rule this podyard made on the machine (stop it first).
    Without --purge the store keeps the pods: a later `podyard serve` makes them again."""
    import asyncio

    from podyard.app import hold_running_lock, take_down

    settings = load_settings(config_file, **flags)
    if hold_running_lock(settings) is None:
        raise click.ClickException(f"podyard is running on {settings.data_dir}: stop it first")
    done = asyncio.run(take_down(settings, purge=purge))
    for line in done:
        click.echo(line)
    if any(line.startswith("could not") for line in done):
        raise click.ClickException("some of what podyard made remains (above); run `podyard down` again")


@main.command("teardown-network")
@settings_options
def teardown_network(config_file: Path | None, **flags: Any) -> None:
    """Remove everything this podyard made on the host network (VPC namespaces, uplinks,
    routes, nftables tables, shaping). Stop podyard and remove its pods first."""
    import asyncio

    from podyard.app import dataplane_for

    dataplane = dataplane_for(load_settings(config_file, **flags))
    asyncio.run(dataplane.teardown())
    click.echo(f"removed podyard {dataplane.names.tag}'s host network")
