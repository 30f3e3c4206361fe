"""What cloud disks cost: pods with a 20 GB data disk against plain ones, and a snapshot
of a disk against copying its image.

    .venv/bin/python -m bench.disks [--samples 10] [--copies 5] [--written-mb 1024] [--json FILE]

One live podyard on its own Podman (the e2e harness, with pools of its own: subnets from
10.241.0.0/16, elastic IPs from 127.105.0.0/24), driven through the official SDK's
PodClient and DiskClient. Every pod runs one busybox container sleeping.

    latency   ``--samples`` pods of each kind made one at a time (maxCount 1), interleaved
              A, B, A, B... after one warm-up pod of each: A has no volume, the baseline;
              B one new ssd.gp1 data disk of 20 GB (xfs, the default), mounted at /data.
              Timed from the createPods call until describePod, polled every 20 ms, says
              ``running``. Each pod is deleted and gone (B's disk too: autoDelete), and
              podyard and its Podman are quiet again, before the next. p50, p90, max; B / A.
    snapshot  one pod with a 20 GB disk; ``--written-mb`` of random data written into it
              and synced. Then ``--copies`` times each, alternating:
              - createSnapshot of the disk (in use: podyard freezes its filesystem while it
                reflinks the image in its btrfs pool), timed from the call until
                describeSnapshot, polled every 10 ms, says ``available``; then deleted;
              - ``cp --sparse=always`` of the disk's image (frozen the same way, so the
                copy is as consistent) to a file on the host's own filesystem, the
                baseline, with and without a ``sync`` of the copy; then removed.
              The host space each took (st_blocks of the copy; the pool's growth for the
              snapshot). p50 and ratios snapshot / cp.
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
from jdcloud_sdk.services.pod.models.JDCloudVolumeSourceSpec import JDCloudVolumeSourceSpec
from jdcloud_sdk.services.pod.models.PodSpec import PodSpec
from jdcloud_sdk.services.pod.models.VolumeMountSpec import VolumeMountSpec
from jdcloud_sdk.services.pod.models.VolumeSpec import VolumeSpec

from bench.host import machine, versions
from bench.live import live_podyard
from bench.network import Bench, create_to_running, gone, ms, quiet, say, stats
from bench.probes import others
from bench.stats import rss_kib
from drive.harness import wait_for
from drive.jd import container, pod_spec
from drive.jddisk import JdDisk
from podyard.disks.names import Layout

SETTINGS = {
    "network_pool": "10.241.0.0/16",
    "elastic_ip_pool": "127.105.0.0/24",
    "elastic_ip_inner_pool": "10.242.0.0/16",
    "disk_overcommit": "100",
}
SLEEP = ["sh", "-c", "exec sleep 100000"]
MB = 1024**2


def spec(b: Bench, with_disk: bool) -> PodSpec:
    mounts = [VolumeMountSpec("data", "/data")] if with_disk else None
    volumes = [VolumeSpec("data", JDCloudVolumeSourceSpec(None, diskType="ssd.gp1", sizeGB=20))] if with_disk else None
    return pod_spec(
        b.jd.account,
        f"db-{uuid.uuid4().hex[:6]}",
        [container(image=b.image, command=SLEEP, volumeMounts=mounts)],
        volumes=volumes,
        terminationGracePeriodSeconds=0,
    )


def no_disks(dk: JdDisk) -> bool:
    return int(dk.disks()["totalCount"]) == 0


def section_latency(b: Bench, dk: JdDisk, samples: int) -> dict[str, Any]:
    took: dict[str, list[float]] = {"without": [], "with": []}
    for i in range(samples + 1):  # the first round warms up (pause image, pull, the pool)
        for kind in took:
            quiet(b)
            pod_id, seconds = create_to_running(b.jd, spec(b, kind == "with"))
            b.jd.call("deletePod", pod_id)
            wait_for(lambda: gone(b.jd, pod_id), 120, f"pod {pod_id} to go")  # noqa: B023
            wait_for(lambda: no_disks(dk), 120, "its disk to go")
            if i:
                took[kind].append(seconds)
        if i:
            say(f"  {i}/{samples}: without {ms(took['without'][-1])} ms, with {ms(took['with'][-1])} ms")
    a, b_ = stats(took["without"]), stats(took["with"])
    return {"without": a, "with": b_, "ratio_p50": round(b_["p50_ms"] / a["p50_ms"], 2),
            "ratio_p90": round(b_["p90_ms"] / a["p90_ms"], 2)}  # fmt: skip


def blocks(path: Path) -> int:
    return path.stat().st_blocks * 512


def section_snapshot(b: Bench, dk: JdDisk, copies: int, written_mb: int, work: Path) -> dict[str, Any]:
    pod_id, _ = create_to_running(b.jd, spec(b, True))
    disk_id = str(b.jd.pod(pod_id)["volumes"][0]["jdcloudDisk"]["volumeId"])
    exec_ = ["podman", *b.podyard.podman_service.global_args(), "exec", f"{pod_id}-app", "sh", "-c"]
    fill = f"dd if=/dev/urandom of=/data/written bs=1M count={written_mb} 2>/dev/null && sync"
    subprocess.run([*exec_, fill], env=b.podyard.podman_service.env, check=True)
    lay = Layout.for_instance(b.podyard.data_dir, str(b.podyard.data_dir.resolve()))
    image, mount = lay.disk_image(disk_id), lay.disk_mount(disk_id)
    took: dict[str, list[float]] = {"snapshot": [], "cp": [], "cp_sync": []}
    space: dict[str, int] = {}
    for _ in range(copies):
        quiet(b)
        pool_before = blocks(lay.pool_image)
        t = time.perf_counter()
        snapshot_id = dk.create_snapshot(disk_id)
        while dk.snapshot(snapshot_id)["status"] != "available":
            time.sleep(0.01)
        took["snapshot"].append(time.perf_counter() - t)
        subprocess.run(["btrfs", "filesystem", "sync", str(lay.pool)], check=True)
        space["snapshot_pool_growth"] = blocks(lay.pool_image) - pool_before
        dk.delete_snapshot(snapshot_id)
        wait_for(lambda: not dk.snapshots()["snapshots"], 60, "the snapshot to go")
        for kind in ("cp", "cp_sync"):
            quiet(b)
            copy = work / "copy.img"
            t = time.perf_counter()
            subprocess.run(["fsfreeze", "--freeze", str(mount)], check=True)
            try:
                subprocess.run(["cp", "--sparse=always", str(image), str(copy)], check=True)
            finally:
                subprocess.run(["fsfreeze", "--unfreeze", str(mount)], check=True)
            if kind == "cp_sync":
                subprocess.run(["sync", "-f", str(copy)], check=True)
            took[kind].append(time.perf_counter() - t)
            space["cp_copy"] = blocks(copy)
            copy.unlink()
            subprocess.run(["sync", "-f", str(work)], check=True)
    b.jd.call("deletePod", pod_id)
    wait_for(lambda: gone(b.jd, pod_id), 120, "the pod to go")
    out: dict[str, Any] = {k: stats(v) for k, v in took.items()}
    out["ratio_p50_vs_cp"] = round(out["snapshot"]["p50_ms"] / out["cp"]["p50_ms"], 3)
    out["ratio_p50_vs_cp_sync"] = round(out["snapshot"]["p50_ms"] / out["cp_sync"]["p50_ms"], 3)
    out["space_mib"] = {k: round(v / MB, 1) for k, v in space.items()}
    out["written_mib"] = written_mb
    return out


def report(r: dict[str, Any]) -> str:
    lines = [f"podyard disks, {r['date']}, {r['machine'].get('cpus')} CPUs"]
    if "latency" in r:
        lat = r["latency"]
        lines += [
            "create→Running (ms)      p50       p90       max",
            *(
                f"  {kind:<20} {lat[kind]['p50_ms']:>8} {lat[kind]['p90_ms']:>9} {lat[kind]['max_ms']:>9}"
                for kind in ("without", "with")
            ),
            f"  with / without: {lat['ratio_p50']}x at p50, {lat['ratio_p90']}x at p90",
        ]
    if "snapshot" in r:
        s = r["snapshot"]
        lines += [
            f"snapshot of a 20 GB disk with {s['written_mib']} MiB written (ms, p50)",
            f"  createSnapshot→available {s['snapshot']['p50_ms']:>8}",
            f"  cp --sparse=always       {s['cp']['p50_ms']:>8}   (+ sync: {s['cp_sync']['p50_ms']})",
            f"  snapshot / cp: {s['ratio_p50_vs_cp']}x; / cp+sync: {s['ratio_p50_vs_cp_sync']}x",
            f"  host space: {s['space_mib']}",
        ]
    return "\n".join(lines)


@click.command()
@click.option("--samples", default=10, help="Pods of each kind timed create→Running.")
@click.option("--copies", default=5, help="Snapshots and copies timed.")
@click.option("--written-mb", default=1024, help="MiB written into the disk before the snapshots.")
@click.option("--only", default="latency,snapshot", help="Sections to run.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
def main(samples: int, copies: int, written_mb: int, only: str, json_path: Path | None) -> None:
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "settings": {"samples": samples, "copies": copies, "written_mb": written_mb, **SETTINGS},
        "other_jobs_before": sorted(others()),
    }
    work = Path(tempfile.mkdtemp(prefix="podyard-bench-disks-"))
    started = time.monotonic()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        podyard, image = live_podyard(stack, work, **SETTINGS)
        b = Bench(podyard, podyard.jd(), podyard.vpc(), image)
        dk = JdDisk(podyard.endpoint, b.jd.account)
        if "latency" in only:
            say(f"latency: {samples} pods of each kind, one at a time")
            result["latency"] = section_latency(b, dk, samples)
        if "snapshot" in only:
            say(f"snapshot: {copies} of each, {written_mb} MiB written")
            result["snapshot"] = section_snapshot(b, dk, copies, written_mb, work)
        result["podyard_rss_mib"] = round(rss_kib(b.pid) / 1024, 1)
        result["other_jobs_after"] = sorted(others())
        result["total_seconds"] = round(time.monotonic() - started, 1)
        print(report(result))
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
