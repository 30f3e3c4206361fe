"""podyard on the fake runtime, with many pods, for measuring the API's own cost.

    python -m bench.fake_server --port P --data-dir D --pods 1000

Prints one JSON line (the admin's keys, a pod id) once every pod is running."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
import uvicorn

from podyard.app import PodyardApp, fake_runtime
from podyard.config import Settings
from podyard.domain.specs.actions import CreatePodsRequest
from podyard.domain.specs.wire import parse_body
from podyard.runtime.fake import FakeRuntime
from podyard.services import accounts, pods

BATCH = 100


def spec(net: Any, name: str, count: int) -> dict[str, Any]:
    return {
        "podSpec": {
            "name": name,
            "instanceType": "g.s1.micro",
            "az": "cn-north-1a",
            "containers": [
                {"name": "app", "image": "busybox", "command": ["sleep", "1"], "systemDisk": {"category": "local"}}
            ],
            "primaryNetworkInterface": {
                "networkInterface": {"subnetId": net.subnet_id, "securityGroups": [net.security_group_id]}
            },
        },
        "maxCount": count,
    }


@click.command()
@click.option("--port", type=int, required=True)
@click.option("--data-dir", type=click.Path(path_type=Path), required=True)
@click.option("--pods", "count", type=int, default=1000)
def main(port: int, data_dir: Path, count: int) -> None:
    settings = Settings(
        data_dir=data_dir,
        listen=f"127.0.0.1:{port}",
        network_pool="10.0.0.0/8",
        subnet_prefix=16,  # room for many pods in one subnet (the fake runtime has no network)
        quota_pod=10**7,
        quota_container=10**7,
        resync_seconds=3600,
        log_level="warning",
    )
    app = PodyardApp(settings, fake_runtime(FakeRuntime()))
    original = app.startup

    async def startup() -> None:
        await original()
        account, net, _ = accounts.first_account(app.ctx)
        for i in range(0, count, BATCH):
            req = parse_body(CreatePodsRequest, spec(net, f"bench-{i // BATCH}", min(BATCH, count - i)))
            await asyncio.to_thread(pods.create_pods, app.ctx, account, settings.region, req)
        assert app.reconciler is not None
        while not app.reconciler.idle():
            await asyncio.sleep(0.1)
        with app.db.read() as s:
            from podyard.store import pods as stored

            pod_id = stored.page(s, account.account_id, settings.region, stored.PodFilter(), 1, 1)[0][0].pod_id
        creds = json.loads((data_dir / "admin-credentials.json").read_text())
        print(json.dumps({**creds, "podId": pod_id}), flush=True)

    app.startup = startup  # type: ignore[method-assign]
    uvicorn.run(
        app, host="127.0.0.1", port=port, loop="uvloop", http="httptools", log_level="warning", access_log=False
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
