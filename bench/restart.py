"""podyard restarted over many running pods (issue 12): how soon it serves again, and how
soon every stored pod has had its first pass (the reconciler says so in its log).

    .venv/bin/python -m bench.restart [--pods 500] [--json FILE]

A live ``podyard serve`` on its own Podman; ``--pods`` pods made in createPods of 50
until all run; podyard stopped (SIGTERM; its pods keep running) and started again.

    serving   from the new process's start until a describePods answers
    adopted   from the new process's start until the log says every stored pod has had
              its pass; and the reconciler's own figure, from when adopt began
    kept      every pod still running, with the start time and restart count it had
              (re-adopted, not restarted)

Also podyard's RSS with the pods running, before and after the restart.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import requests

from bench.host import machine, versions
from bench.live import live_podyard
from bench.rest import podyard_pod
from bench.stats import rss_kib
from drive.jd import Jd

SETTINGS = {"network_pool": "10.245.0.0/16", "elastic_ip_pool": "127.107.0.0/24",
            "elastic_ip_inner_pool": "10.246.0.0/16", "subnet_prefix": "20",
            "quota_pod": "2000", "quota_container": "4000"}  # fmt: skip
BATCH = 50
ADOPTED = re.compile(r"every stored pod has had its first pass since the start, ([0-9.]+) s after adopt began")


def say(text: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {text}", flush=True)


def all_pods(jd: Jd) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    page = 1
    while True:
        got = jd.pods(pageNumber=page, pageSize=100)
        found.update({p["podId"]: p for p in got["pods"]})
        if len(found) >= got["totalCount"] or not got["pods"]:
            return found
        page += 1


def seen_as(pod: dict[str, Any]) -> tuple[str, str | None, tuple[int, ...]]:
    counts = tuple(c["containerStatus"]["restartCount"] for c in pod["containers"])
    return pod["podStatus"]["phase"], pod["podStatus"]["startTime"], counts


@click.command()
@click.option("--pods", "count", default=500, help="Running pods podyard is restarted over.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(count: int, json_path: Path | None) -> None:
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "pods": count,
    }
    work = Path(tempfile.mkdtemp(prefix="podyard-bench-restart-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        podyard, image = live_podyard(stack, work, **SETTINGS)
        jd = podyard.jd()
        made = 0
        t = time.perf_counter()
        while made < count:
            n = min(BATCH, count - made)
            podyard_pod(jd, image, n, every=0.5)
            made += n
            say(f"{made}/{count} pods running")
        result["made_in_s"] = round(time.perf_counter() - t, 1)
        assert podyard.proc is not None
        result["rss_mib_before"] = round(rss_kib(podyard.proc.pid) / 1024, 1)
        before = {pod_id: seen_as(p) for pod_id, p in all_pods(jd).items()}
        say("stopping podyard")
        podyard.stop()
        logged = len(podyard.log.read_text())
        say("starting podyard")
        t0 = time.perf_counter()
        podyard.start()  # returns once it listens and its startup is complete
        while True:
            try:
                jd.pods(pageSize=10)
                break
            except requests.RequestException:
                time.sleep(0.05)
        result["serving_s"] = round(time.perf_counter() - t0, 2)
        say(f"serving after {result['serving_s']} s")
        while not (found := ADOPTED.search(podyard.log.read_text()[logged:])):
            if time.perf_counter() - t0 > 600:
                raise RuntimeError("podyard did not say every pod had its pass within 10 minutes")
            time.sleep(0.1)
        result["adopted_s"] = round(time.perf_counter() - t0, 2)
        result["adopted_after_adopt_began_s"] = float(found.group(1))
        say(f"every pod had its pass after {result['adopted_s']} s")
        after = {pod_id: seen_as(p) for pod_id, p in all_pods(jd).items()}
        result["kept"] = sum(1 for pod_id, seen in before.items() if after.get(pod_id) == seen)
        result["running_after"] = sum(1 for seen in after.values() if seen[0] == "running")
        result["rss_mib_after"] = round(rss_kib(podyard.proc.pid) / 1024, 1)
        say(f"{result['kept']} of {count} pods kept as they were; podyard RSS {result['rss_mib_after']} MiB")
        say("removing the pods")
    print(json.dumps(result, indent=2))
    if json_path:
        json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
