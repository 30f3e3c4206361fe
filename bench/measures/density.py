"""Section 5: idle pods created one after another, up to ``n``: create → Running all the way,
and at every hundredth pod what each layer holds — podyard's RSS, Podman's per-pod processes
(conmon and the infra container's), the machine's memory, and Podman's own latency then."""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path
from typing import Any

from bench.pods import delete_all, podyard_create
from bench.stats import pct, rss_kib, summary
from drive.harness import Podyard
from drive.jd import Jd

EVERY = 100  # pods between checkpoints
# What Podman runs for each pod: conmon per container (the infra's and the app's), the
# infra container's catatonit, and the app container's own process (sleep).
PER_POD = ("conmon", "catatonit", "sleep")


def _rss_by_command() -> dict[str, tuple[int, int]]:
    """(processes, KiB of RSS) per command name, for the names in PER_POD."""
    out: dict[str, tuple[int, int]] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        name = fields.get("Name", "").strip()
        if name in PER_POD:
            count, kib = out.get(name, (0, 0))
            out[name] = (count + 1, kib + int(fields.get("VmRSS", "0 kB").split()[0]))
    return out


def _mem_available_kib() -> int:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemAvailable"))
    return int(line.split()[1])


def _podman_url() -> str:
    """The API socket of the Podman service podyard runs (its own store, not the host's)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            args = cmdline.read_bytes().decode(errors="replace").split("\0")
            if "system" in args and "service" in args:
                return next(a for a in args if a.startswith("unix://"))
    raise RuntimeError("podyard's Podman service is not running")


def _podman_ps_s() -> tuple[int, float]:
    """Podman's own latency with these pods: one `podman pod ps` of them all, through
    podyard's Podman service; and how many it listed."""
    t = time.perf_counter()
    out = subprocess.run(["podman", "--url", _podman_url(), "pod", "ps", "-q"], capture_output=True, check=True)
    return len(out.stdout.split()), time.perf_counter() - t


def _checkpoint(pid: int, pods: int, latencies: list[float], base: dict[str, int]) -> dict[str, Any]:
    procs = _rss_by_command()
    return {
        "pods": pods,
        "create_p99_last_s": pct(latencies[-EVERY:], 0.99),
        "podyard_rss_mib": rss_kib(pid) / 1024,
        "podyard_kib_per_pod": (rss_kib(pid) - base["rss"]) / pods,
        "machine_kib_per_pod": (base["available"] - _mem_available_kib()) / pods,
        "podman_processes": {name: {"count": c, "kib_each": kib / max(c, 1)} for name, (c, kib) in procs.items()},
        "podman_pod_ps": dict(zip(("pods", "seconds"), _podman_ps_s(), strict=True)),
    }


def section_density(podyard: Podyard, jd: Jd, image: str, n: int) -> dict[str, Any]:
    assert podyard.proc is not None
    pid = podyard.proc.pid
    base = {"rss": rss_kib(pid), "available": _mem_available_kib()}
    before = base["rss"]
    latencies: list[float] = []
    checkpoints: list[dict[str, Any]] = []
    count = 0
    while count < n:
        _, elapsed, _ = podyard_create(jd, image)
        latencies.append(elapsed)
        count += 1
        if count % EVERY == 0:
            checkpoints.append(_checkpoint(pid, count, latencies, base))
            print(f"density: {checkpoints[-1]}", flush=True)
        if count >= 20 and pct(latencies[-20:], 0.99) > 5.0:
            stopped = f"the last 20 creates' p99 passed 5 s at {count} pods"
            break
    else:
        stopped = f"reached {n} pods"
    time.sleep(3)  # let the reconciler settle
    after = rss_kib(pid)
    result = {
        "pods": count,
        "create_to_running_s": summary(latencies),
        "last_20_p99_s": pct(latencies[-20:], 0.99),
        "podyard_rss_before_mib": before / 1024,
        "podyard_rss_after_mib": after / 1024,
        "podyard_kib_per_pod": (after - before) / count,
        "checkpoints": checkpoints,
        "stopped": stopped,
    }
    print(f"density: {result}", flush=True)  # before the deletes, which take minutes at hundreds of pods
    t = time.perf_counter()
    delete_all(podyard, jd)
    result["delete_all_s"] = time.perf_counter() - t
    return result
