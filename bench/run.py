"""podyard against raw Podman, side by side, in one run on one machine.

    .venv/bin/python -m bench.run [--pods 20] [--bursts 10,50] [--density 100] [--json FILE]

Prints a table of medians, p99s and ratios (podyard / raw Podman, or podyard / a minimal
endpoint on the same server stack) with the machine, versions and date, and writes the
same as JSON. Ratios, not absolute times, are the point: this machine is shared and noisy.

This module runs the chosen sections; each measure is a module of bench/measures/, the
table and targets are bench/report.py's.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from bench.host import machine, versions
from bench.measures.api import section_api
from bench.measures.burst import section_burst
from bench.measures.density import section_density
from bench.measures.exec_logs import section_exec_logs
from bench.measures.single import section_single
from bench.pods import delete_all, podyard_create
from bench.raw import RawPodman
from bench.report import judge, table
from drive.harness import Podyard, Registry

POOL = "10.227.0.0/16"  # podyard's subnets in the benchmark (host-local bridges)


@click.command()
@click.option("--pods", default=20, help="Pods created one at a time (section 1).")
@click.option("--bursts", default="10,50", help="maxCount of the bursts (section 2).")
@click.option("--api-seconds", default=10.0, help="Seconds of load per API measure (section 3).")
@click.option("--api-pods", default=1000, help="Pods in the fake-runtime podyard (section 3).")
@click.option("--exec-runs", default=20, help="exec and logs round trips (section 4).")
@click.option("--density", default=100, help="Idle pods at the least (section 5).")
@click.option("--only", default="single,burst,api,exec,density", help="Sections to run.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(
    pods: int,
    bursts: str,
    api_seconds: float,
    api_pods: int,
    exec_runs: int,
    density: int,
    only: str,
    json_path: Path | None,
) -> None:
    sections = set(only.split(","))
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
    }
    work = Path(tempfile.mkdtemp(prefix="podyard-bench-"))
    steps: list[Callable[[], None]] = []
    with ExitStack() as stack:
        if sections & {"single", "burst", "exec", "density"}:
            registry = Registry(work / "registry")
            stack.callback(registry.stop)
            image = registry.push_busybox(work / "image")
            podyard = Podyard(work / "podyard" / "data", [registry])
            podyard.env.update(
                {
                    "PODYARD_NETWORK_POOL": POOL,
                    # Its own elastic-IP pools: the tests' inner pool holds RAW_SUBNET.
                    "PODYARD_ELASTIC_IP_POOL": "127.108.0.0/24",
                    "PODYARD_ELASTIC_IP_INNER_POOL": "10.247.0.0/16",
                    "PODYARD_SUBNET_PREFIX": "20",  # room for the density section's pods in one subnet
                    # The service's default (the tests' harness checks every 2 s): each check
                    # lists every pod Podman has, which takes a second at 300 pods.
                    "PODYARD_RESYNC_SECONDS": "10",
                    "PODYARD_QUOTA_POD": "2000",
                    "PODYARD_QUOTA_CONTAINER": "8000",
                }
            )
            podyard.start()
            stack.callback(podyard.cleanup)
            jd = podyard.jd()
            podyard_create(jd, image)  # warm up: the pause image, the pull, the subnet's bridge
            delete_all(podyard, jd)
            raw = RawPodman(work / "raw", image)
            stack.callback(raw.close)
            raw.create("warmup")
            raw.clean()
            if "single" in sections:
                steps.append(lambda: result.__setitem__("single", section_single(podyard, jd, raw, image, pods)))
            if "burst" in sections:
                steps.append(
                    lambda: result.__setitem__(
                        "bursts", [section_burst(podyard, jd, raw, image, int(n)) for n in bursts.split(",")]
                    )
                )
            if "exec" in sections:
                steps.append(lambda: result.__setitem__("exec_logs", section_exec_logs(podyard, jd, image, exec_runs)))
            if "density" in sections:
                steps.append(lambda: result.__setitem__("density", section_density(podyard, jd, image, density)))
        if "api" in sections:
            steps.append(lambda: result.__setitem__("api", section_api(api_seconds, api_pods, work)))
        for step in steps:
            step()
            print(json.dumps({k: v for k, v in result.items() if k not in ("machine", "versions", "date")}), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    result["targets"] = judge(result)
    m, v = result["machine"], result["versions"]
    print(
        f"podyard benchmark — {result['date']} — {m['cpus']} CPUs, {m['memory']} — "
        f"{v['podman']}, Python {v['python']}, podyard {v['podyard']}"
    )
    print(table(result))
    print(json.dumps(result, indent=2))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    # A terminated run still cleans up its podyard, registry and raw Podman (ExitStack).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
