"""Where the machine stops, without podyard: idle pods made one after another on a bare
Podman service with the libpod sequence podyard's driver sends (bench/rest.py's RawRest),
until ``--pods`` or until the last 20 creates' p99 passes 5 s.

    .venv/bin/python -m bench.raw_density [--pods 500] [--json FILE]

Every 50 pods: the p99 of the last 50 creates, and how long one listing of every pod
(`GET /pods/json`, what podyard's resync asks) takes. The same figures as bench.run's
density section reports for podyard, so the two can be read side by side.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from bench.host import machine, versions
from bench.rest import RawRest, bare_podman
from bench.stats import pct, summary
from drive.harness import Registry

EVERY = 50


async def grow(raw: RawRest, n: int) -> dict[str, Any]:
    latencies: list[float] = []
    checkpoints: list[dict[str, Any]] = []
    stopped = f"reached {n} pods"
    while len(latencies) < n:
        latencies.append(await raw.pod(every=0.05))
        count = len(latencies)
        if count % EVERY == 0:
            t = time.perf_counter()
            listed = len(await raw.call("GET", "/pods/json"))
            point = {
                "pods": count,
                "create_p99_last_s": pct(latencies[-EVERY:], 0.99),
                "list_s": time.perf_counter() - t,
                "listed": listed,
            }
            print(json.dumps(point), flush=True)
            checkpoints.append(point)
        if count >= 20 and pct(latencies[-20:], 0.99) > 5.0:
            stopped = f"the last 20 creates' p99 passed 5 s at {count} pods"
            break
    return {"pods": len(latencies), "create_to_running_s": summary(latencies), "checkpoints": checkpoints,
            "stopped": stopped, "latencies_s": latencies}  # fmt: skip


@click.command()
@click.option("--pods", "count", default=500, help="Idle pods at the most.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(count: int, json_path: Path | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="podyard-bench-rawdensity-"))
    loop = asyncio.new_event_loop()
    result: dict[str, Any] = {"machine": machine(), "versions": versions()}
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        stack.callback(loop.close)
        registry = Registry(work / "registry")
        stack.callback(registry.stop)
        image = registry.push_busybox(work / "image")
        raw = bare_podman(stack, work, image, loop)
        result["density"] = loop.run_until_complete(grow(raw, count))
        summary_only = {k: v for k, v in result["density"].items() if k != "latencies_s"}
        print(json.dumps(summary_only, indent=2), flush=True)
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
