"""How podyard's own costs grow with the pods it holds (issue 12), on the fake runtime, so
that only podyard's code is measured: a table, the JSON, and a plot.

    .venv/bin/python -m bench.growth [--sizes 100,500,1000,2000] [--plot docs/growth.png] [--json FILE]

At each size, in one process (the app, its store and its reconciler, as `podyard serve`
runs them, without HTTP):

    describePods     a page of 20, read again and again (what a poll costs): p50 and p99;
                     and every page of 100 once with nothing kept from an earlier read (a
                     full listing, the best of three), per pod
    reconcile pass   every stored pod given a pass (as after a restart) until the
                     reconciler is idle; and a periodic resync check with nothing changed
                     (each the median of three)
    RSS              the process's, and its growth per pod since the smallest size

A cost that grows faster than the pods shows as a rising line in the plot's per-pod panel.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import click
import orjson

from bench.fake_server import spec
from bench.host import machine, versions
from bench.stats import pct, rss_kib
from podyard.api import views
from podyard.app import PodyardApp, fake_runtime
from podyard.config import Settings
from podyard.domain.memo import Memo
from podyard.domain.specs.actions import CreatePodsRequest
from podyard.domain.specs.wire import parse_body
from podyard.runtime.fake import FakeRuntime
from podyard.services import accounts, pods
from podyard.store import pods as stored

BATCH = 100
POLLS = 300


def _forget_kept() -> None:
    """Empty the request path's memos (store/pods.py, api/views.py): a cold read."""
    stored._memo = Memo(stored._memo.size)
    views._rendered = Memo(views._rendered.size)


class Growth:
    def __init__(self, data_dir: Path) -> None:
        self.settings = Settings(
            data_dir=data_dir,
            listen="127.0.0.1:1",
            network_pool="10.0.0.0/8",
            subnet_prefix=16,
            quota_pod=10**7,
            quota_container=10**7,
            resync_seconds=3600,  # passes are started by the benchmark only
            log_level="warning",
        )
        self.app = PodyardApp(self.settings, fake_runtime(FakeRuntime()))
        self.count = 0

    async def start(self) -> None:
        await self.app.startup()
        self.account, self.net, _ = accounts.first_account(self.app.ctx)

    async def grow_to(self, size: int) -> None:
        while self.count < size:
            n = min(BATCH, size - self.count)
            req = parse_body(CreatePodsRequest, spec(self.net, f"g{self.count}", n))
            await asyncio.to_thread(pods.create_pods, self.app.ctx, self.account, self.settings.region, req)
            self.count += n
        await self._idle()

    async def _idle(self) -> None:
        assert self.app.reconciler is not None
        while not self.app.reconciler.idle():
            await asyncio.sleep(0.01)

    def _page(self, number: int, size: int) -> bytes:
        """describePods' work after the signature check: the read, the wire form, the JSON."""
        found, total = pods.describe_pods(
            self.app.ctx, self.account, self.settings.region, number, size, stored.PodFilter()
        )
        now = self.app.ctx.now()
        return orjson.dumps({"pods": [views.pod(p, False, now) for p in found], "totalCount": total})

    def describe_pods(self) -> dict[str, float]:
        listings = []
        for _ in range(3):  # the best of three: one listing is a single noisy sample
            _forget_kept()
            t = time.perf_counter()
            for number in range(1, self.count // 100 + 2):
                self._page(number, 100)
            listings.append(time.perf_counter() - t)
        listing = min(listings)
        middle = max(1, self.count // 40)  # a page of 20 in the middle of the listing
        polls = []
        for _ in range(POLLS):
            t = time.perf_counter()
            self._page(middle, 20)
            polls.append(time.perf_counter() - t)
        return {
            "page20_p50_ms": pct(polls, 0.5) * 1e3,
            "page20_p99_ms": pct(polls, 0.99) * 1e3,
            "listing_s": listing,
            "listing_us_per_pod": listing / self.count * 1e6,
        }

    async def reconcile_pass(self) -> dict[str, float]:
        """Each the median of three: a pass over every pod, and a resync check."""
        reconciler = self.app.reconciler
        assert reconciler is not None
        with self.app.db.read() as s:
            ids = stored.all_pod_ids(s)
        passes, checks = [], []
        for _ in range(3):
            t = time.perf_counter()
            for pod_id in ids:
                reconciler.nudge(pod_id)
            await self._idle()
            passes.append(time.perf_counter() - t)
            t = time.perf_counter()
            changed = await reconciler.resync_once()
            checks.append(time.perf_counter() - t)
            assert not changed, f"a resync with nothing changed nudged {len(changed)} pods"
        every, resync = pct(passes, 0.5), pct(checks, 0.5)
        return {
            "pass_s": every,
            "pass_us_per_pod": every / len(ids) * 1e6,
            "resync_ms": resync * 1e3,
            "resync_us_per_pod": resync / len(ids) * 1e6,
        }


async def measure(sizes: list[int]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="podyard-growth-") as tmp:
        g = Growth(Path(tmp))
        await g.start()
        rows: list[dict[str, Any]] = []
        try:
            for size in sizes:
                await g.grow_to(size)
                row: dict[str, Any] = {"pods": size}
                row.update(g.describe_pods())
                row.update(await g.reconcile_pass())
                row["rss_mib"] = rss_kib(os.getpid()) / 1024
                print(json.dumps(row), flush=True)
                rows.append(row)
        finally:
            await g.app.shutdown()
    base = rows[0]
    for row in rows[1:]:
        row["rss_kib_per_pod_since_first"] = (row["rss_mib"] - base["rss_mib"]) * 1024 / (row["pods"] - base["pods"])
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| pods | describePods page of 20 p50 / p99 | full listing, per pod | reconcile pass (per pod) "
        "| resync check (per pod) | RSS (per pod since first) |"
    )
    lines = [head, "|---|---|---|---|---|---|"]
    for r in rows:
        per_pod = r.get("rss_kib_per_pod_since_first")
        lines.append(
            f"| {r['pods']:,} | {r['page20_p50_ms']:.2f} / {r['page20_p99_ms']:.2f} ms "
            f"| {r['listing_us_per_pod']:.0f} µs | {r['pass_s']:.2f} s ({r['pass_us_per_pod']:.0f} µs) "
            f"| {r['resync_ms']:.1f} ms ({r['resync_us_per_pod']:.1f} µs) | {r['rss_mib']:.0f} MiB"
            + (f" ({per_pod:.0f} KiB)" if per_pod is not None else "")
            + " |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r["pods"] for r in rows]
    fig, (total, per_pod) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in (
        ("page20_p50_ms", "describePods, page of 20, p50 (ms)"),
        ("listing_s", "full listing, cold (s)"),
        ("pass_s", "reconcile pass over every pod (s)"),
        ("resync_ms", "resync check (ms)"),
    ):
        ys = [r[key] for r in rows]
        (line,) = total.plot(n, ys, marker="o", label=label)
        # Linear growth from the smallest size, for comparison.
        total.plot(n, [ys[0] * x / n[0] for x in n], linestyle=":", color=line.get_color())
    total.set_xlabel("pods")
    total.set_title("cost, log-log (dotted: linear from the first size)")
    total.set_xscale("log")
    total.set_yscale("log")
    total.legend(fontsize=8)
    for key, label in (
        ("listing_us_per_pod", "full listing"),
        ("pass_us_per_pod", "reconcile pass"),
        ("resync_us_per_pod", "resync check"),
    ):
        per_pod.plot(n, [r[key] for r in rows], marker="o", label=label)
    per_pod.set_xlabel("pods")
    per_pod.set_ylabel("µs per pod")
    per_pod.set_yscale("log")
    per_pod.set_title("per pod (flat: linear growth; rising: worse)")
    per_pod.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


@click.command()
@click.option("--sizes", default="100,500,1000,2000", help="Pod counts to measure at, rising.")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path), help="Write the plot (PNG) here.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(sizes: str, plot_path: Path | None, json_path: Path | None) -> None:
    counts = sorted(int(s) for s in sizes.split(","))
    rows = asyncio.run(measure(counts))
    m, v = machine(), versions()
    memory = f"{int(m['memory'].split()[0]) / 2**20:.0f} GiB"
    title = f"podyard {v['podyard']} on the fake runtime — {m['cpus']} CPUs, {memory}, Python {v['python']}"
    print(title)
    print(table(rows))
    if plot_path:
        plot(rows, plot_path, title)
    if json_path:
        json_path.write_text(json.dumps({"machine": m, "versions": v, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
