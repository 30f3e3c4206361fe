"""A load client: many concurrent requests from one process, each freshly signed as the
official SDK signs (its own Signer), for a fixed time.

    python -m bench.load --endpoint HOST:PORT --ak AK --sk SK --action describePod --pod-id ID
"""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from typing import Any

import aiohttp
import click
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.core.signer import Signer

REGION = "cn-north-1"


def request_for(action: str, endpoint: str, pod_id: str, n: int, subnet: str, sg: str) -> tuple[str, str, str]:
    base = f"http://{endpoint}/v1/regions/{REGION}"
    if action == "describePod":
        return "GET", f"{base}/pods/{pod_id}", ""
    if action == "describePods":
        return "GET", f"{base}/pods?pageNumber={1 + n % 50}&pageSize=20", ""
    if action == "createPods":
        body = {
            "podSpec": {
                "name": f"load-{n}",
                "instanceType": "g.s1.micro",
                "az": "cn-north-1a",
                "containers": [
                    {"name": "app", "image": "busybox", "command": ["sleep", "1"], "systemDisk": {"category": "local"}}
                ],
                "primaryNetworkInterface": {"networkInterface": {"subnetId": subnet, "securityGroups": [sg]}},
            },
            "maxCount": 1,
        }
        return "POST", f"{base}/pods", json.dumps(body)
    raise ValueError(action)


async def run(
    endpoint: str, ak: str, sk: str, action: str, pod_id: str, subnet: str, sg: str, seconds: float, concurrency: int
) -> dict[str, Any]:
    signer, cred = Signer(Logger(0)), Credential(ak, sk)
    counter = itertools.count()
    latencies: list[float] = []  # of answered requests only: a refusal is no request served
    errors = 0
    first_error = ""
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as client:

        async def worker() -> None:
            nonlocal errors, first_error
            while time.perf_counter() < deadline:
                method, url, body = request_for(action, endpoint, pod_id, next(counter), subnet, sg)
                headers = {"Content-Type": "application/json", "User-Agent": "JdcloudSdkPython/bench"}
                t = time.perf_counter()
                signer.sign(method, "pod", REGION, url, headers, body, cred, "")
                async with client.request(method, url, data=body.encode(), headers=headers) as r:
                    answer = await r.read()
                if r.status != 200:
                    errors += 1
                    first_error = first_error or f"{r.status} {answer[:300]!r}"
                    continue
                latencies.append(time.perf_counter() - t)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    if not latencies:
        raise SystemExit(f"no {action} was answered: {first_error}")
    return {
        "action": action,
        "requests": len(latencies),
        "errors": errors,
        "first_error": first_error,
        "rps": len(latencies) / elapsed,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))],
    }


@click.command()
@click.option("--endpoint", required=True)
@click.option("--ak", required=True)
@click.option("--sk", required=True)
@click.option("--action", required=True)
@click.option("--pod-id", default="")
@click.option("--subnet", default="")
@click.option("--sg", default="")
@click.option("--seconds", type=float, default=10.0)
@click.option("--concurrency", type=int, default=16)
def main(**kw: Any) -> None:
    import uvloop

    print(json.dumps(uvloop.run(run(**kw))))


if __name__ == "__main__":
    main()
