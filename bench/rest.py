"""podyard against the engine's own limit: the libpod REST calls podyard makes for a pod,
sent straight to a Podman service socket by a minimal async client (issue 12).

    .venv/bin/python -m bench.rest [--samples 15] [--burst 50] [--json FILE]

Two Podman services on this machine, each with its own store and the same config
(runc, cgroupfs, the ulimits the machine allows): podyard's, behind a live ``podyard
serve`` driven through the official SDK, and a bare one that this script talks to with
httpx over its unix socket. The bare sequence for one pod is what podyard's driver sends
(runtime/podman/driver.py), with the same options on the Podman side:

    POST /pods/create        netns none, userns auto (65,536 ids), the pod's memory and CPU
    POST /containers/create  in the pod, k8s-file log, no new privileges, limits, command
    POST /containers/{infra}/start, POST /containers/{app}/start
    GET  /containers/{app}/json until State.Running

What podyard adds on top (its store, the reconciler, its registry check, the pod's
interface in its VPC and its nftables rules) is podyard's cost.

    single  ``--samples`` pods of each, one at a time, interleaved (podyard, raw, ...)
            after one warm-up of each: create → running, p50 and p99; podyard's from the
            createPods call until describePod says running (polled every 10 ms). Each
            pod is deleted (and gone) before the next.
    burst   ``--burst`` pods at once: podyard one createPods of maxCount N, until
            describePods shows all running; raw N sequences in parallel. Pods per second.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import httpx

from bench.host import machine, versions
from bench.live import live_podyard
from bench.network import Bench, ms, quiet, say, stats
from bench.pods import running
from bench.probes import others
from bench.stats import pct
from drive.harness import unmount_under, wait_for
from drive.jd import Jd, container, pod_spec
from podyard.runtime.podman.service import PodmanService

SETTINGS = {"network_pool": "10.243.0.0/16", "elastic_ip_pool": "127.106.0.0/24",
            "elastic_ip_inner_pool": "10.244.0.0/16", "quota_pod": "500", "quota_container": "2000"}  # fmt: skip
SLEEP = ["sh", "-c", "exec sleep 100000"]
API = "http://d/v4.0.0/libpod"
MB = 1024 * 1024
CPU_PERIOD = 100_000
# A burst is watched every 100 ms on both sides: polling every 10 ms would load each
# service with the watching (50 inspects, or a describePods of 50 pods, 100 times a second).
BURST_POLL = 0.1


class RawRest:
    """The bare libpod sequence of one pod, on a Podman service of its own."""

    def __init__(self, socket: Path, image: str) -> None:
        self.client = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=str(socket)), timeout=120)
        self.image = image

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        r = await self.client.request(method, f"{API}{path}", json=body)
        if r.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
        return r.json() if r.content else None

    async def pod(self, every: float = 0.01) -> float:
        """One pod made and started, as podyard's driver does it: seconds until it runs
        (its container inspected every ``every`` s)."""
        name = f"raw-{uuid.uuid4().hex[:10]}"
        limits = {"memory": {"limit": 1024 * MB}, "cpu": {"quota": CPU_PERIOD, "period": CPU_PERIOD}}
        t = time.perf_counter()
        await self.call("POST", "/pods/create", {
            "name": name, "hostname": name, "labels": {"bench": "raw"}, "infra_name": f"{name}-infra",
            "netns": {"nsmode": "none"}, "userns": {"nsmode": "auto"},
            "idmappings": {"AutoUserNs": True, "AutoUserNsOpts": {"Size": 65536}},
            "resource_limits": limits,
        })  # fmt: skip
        await self.call("POST", "/containers/create", {
            "name": f"{name}-app", "pod": name, "image": self.image, "labels": {"bench": "raw"},
            "env": {}, "terminal": False, "stdin": False, "stop_timeout": 0,
            "log_configuration": {"driver": "k8s-file"}, "privileged": False, "no_new_privileges": True,
            "resource_limits": {**limits, "pids": {"limit": 1024}}, "entrypoint": SLEEP, "command": [],
        })  # fmt: skip
        await self.call("POST", f"/containers/{name}-infra/start")
        await self.call("POST", f"/containers/{name}-app/start")
        while not (await self.call("GET", f"/containers/{name}-app/json"))["State"]["Running"]:
            await asyncio.sleep(every)
        return time.perf_counter() - t

    async def clean(self) -> None:
        """Every pod removed. Podman 4.3 with user namespaces sometimes finds a container's
        shm mount busy for a moment ("device or resource busy"), as podyard's own Podman
        does (app._remove): a few tries."""
        for p in await self.call("GET", "/pods/json"):
            for attempt in range(5):
                try:
                    await self.call("DELETE", f"/pods/{p['Name']}?force=true&t=0")
                    break
                except RuntimeError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5 * 2**attempt)

    async def close(self) -> None:
        await self.client.aclose()


def bare_podman(stack: ExitStack, work: Path, image: str, loop: asyncio.AbstractEventLoop) -> RawRest:
    """A bare Podman service of its own under ``work`` with ``image`` pulled, and a RawRest
    on it; its pods, the service and its store go when ``stack`` closes."""
    bare = PodmanService(work / "raw")
    stack.callback(shutil.rmtree, bare.run_dir, True)
    stack.callback(unmount_under, bare.run_dir)
    stack.callback(unmount_under, work / "raw")  # its store's own bind mounts
    stack.callback(lambda: loop.run_until_complete(bare.stop()))
    loop.run_until_complete(bare.start())
    pull = ["podman", *bare.global_args(), "pull", "--tls-verify=false", "-q", image]
    subprocess.run(pull, env=bare.env, check=True, capture_output=True)
    raw = RawRest(bare.socket, image)
    stack.callback(lambda: loop.run_until_complete(raw.close()))
    stack.callback(lambda: loop.run_until_complete(raw.clean()))
    return raw


def podyard_pod(jd: Jd, image: str, count: int = 1, every: float = 0.01) -> tuple[list[str], float]:
    spec = pod_spec(jd.account, f"r-{uuid.uuid4().hex[:6]}", [container(image=image, command=SLEEP)],
                    terminationGracePeriodSeconds=0)  # fmt: skip
    t = time.perf_counter()
    ids = jd.create_pods(spec, count)
    if count == 1:
        while jd.pod(ids[0])["podStatus"]["phase"] != "running":
            time.sleep(0.01)
        return ids, time.perf_counter() - t
    seen = running(jd, ids, every=every)
    return ids, max(seen.values()) - t


def delete_pods(jd: Jd, ids: list[str]) -> None:
    for pod_id in ids:
        jd.call("deletePod", pod_id)
    wait_for(lambda: jd.pods(pageSize=10)["totalCount"] == 0, 300, "the pods to go")


def summary(seconds: list[float]) -> dict[str, Any]:
    return {**stats(seconds), "p99_ms": ms(pct(seconds, 0.99))}


def section_single(b: Bench, raw: RawRest, loop: asyncio.AbstractEventLoop, samples: int) -> dict[str, Any]:
    took: dict[str, list[float]] = {"podyard": [], "raw_rest": []}
    for i in range(samples + 1):  # the first round warms up
        quiet(b)
        ids, seconds = podyard_pod(b.jd, b.image)
        delete_pods(b.jd, ids)
        raw_seconds = loop.run_until_complete(raw.pod())
        loop.run_until_complete(raw.clean())
        if i:
            took["podyard"].append(seconds)
            took["raw_rest"].append(raw_seconds)
            say(f"  {i}/{samples}: podyard {ms(seconds)} ms, raw REST {ms(raw_seconds)} ms")
    ours, theirs = summary(took["podyard"]), summary(took["raw_rest"])
    return {"podyard": ours, "raw_rest": theirs, "ratio_p50": round(ours["p50_ms"] / theirs["p50_ms"], 2),
            "ratio_p99": round(ours["p99_ms"] / theirs["p99_ms"], 2)}  # fmt: skip


def section_burst(b: Bench, raw: RawRest, loop: asyncio.AbstractEventLoop, n: int) -> dict[str, Any]:
    quiet(b, timeout=120)
    ids, elapsed = podyard_pod(b.jd, b.image, n, every=BURST_POLL)
    delete_pods(b.jd, ids)

    async def burst() -> float:
        t = time.perf_counter()
        await asyncio.gather(*(raw.pod(every=BURST_POLL) for _ in range(n)))
        return time.perf_counter() - t

    raw_elapsed = loop.run_until_complete(burst())
    loop.run_until_complete(raw.clean())
    ours, theirs = n / elapsed, n / raw_elapsed
    return {"count": n, "podyard_pods_per_s": round(ours, 2), "raw_rest_pods_per_s": round(theirs, 2),
            "ratio": round(ours / theirs, 2)}  # fmt: skip


def report(r: dict[str, Any]) -> str:
    s, lines = r.get("single"), [f"podyard against raw REST, {r['date']}, {r['machine'].get('cpus')} CPUs"]
    if s:
        lines += [
            "create → running (ms)   p50       p99",
            f"  podyard            {s['podyard']['p50_ms']:>8} {s['podyard']['p99_ms']:>9}",
            f"  raw REST           {s['raw_rest']['p50_ms']:>8} {s['raw_rest']['p99_ms']:>9}",
            f"  podyard / raw: {s['ratio_p50']}x at p50, {s['ratio_p99']}x at p99",
        ]
    if burst := r.get("burst"):
        lines.append(
            f"burst of {burst['count']}: podyard {burst['podyard_pods_per_s']} pods/s, raw REST "
            f"{burst['raw_rest_pods_per_s']} pods/s ({burst['ratio']}x)"
        )
    return "\n".join(lines)


@click.command()
@click.option("--samples", default=15, help="Pods of each timed create → running, one at a time.")
@click.option("--burst", default=50, help="Pods made at once (0: no burst).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(samples: int, burst: int, json_path: Path | None) -> None:
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "settings": {"samples": samples, "burst": burst, **SETTINGS},
        "other_jobs_before": sorted(others()),
    }
    work = Path(tempfile.mkdtemp(prefix="podyard-bench-rest-"))
    loop = asyncio.new_event_loop()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        stack.callback(loop.close)
        podyard, image = live_podyard(stack, work, **SETTINGS)
        b = Bench(podyard, podyard.jd(), podyard.vpc(), image)
        raw = bare_podman(stack, work, image, loop)
        say(f"single: {samples} pods of each, one at a time")
        result["single"] = section_single(b, raw, loop, samples)
        if burst:
            say(f"burst: {burst} pods at once")
            result["burst"] = section_burst(b, raw, loop, burst)
        print(report(result))
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
