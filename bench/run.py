"""podyard against raw Podman, side by side, in one run on one machine.

    .venv/bin/python -m bench.run [--pods 20] [--bursts 10,50] [--density 100] [--json FILE]

Prints a table of medians, p99s and ratios (podyard / raw Podman, or podyard / a minimal
endpoint on the same server stack) with the machine, versions and date, and writes the
same as JSON. Ratios, not absolute times, are the point: this machine is shared and noisy.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from podyard import __version__
from podyard.runtime.podman.service import PodmanService
from tests.harness import Podyard, Registry, free_port, unmount_under, wait_for
from tests.jd import Jd, container, pod_spec
from tests.wsjdc import JdcStream

POOL = "10.227.0.0/16"  # podyard's subnets in the benchmark (host-local bridges)
RAW_SUBNET = "10.228.0.0/24"  # raw Podman's network
IMAGE_SLEEP = ["sleep", "100000"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": statistics.median(values), "p99": pct(values, 0.99)}


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class RawPodman:
    """Podman by hand, as a user would run it: its own store, a bridge network, the CLI."""

    def __init__(self, root: Path, image_ref: str) -> None:
        self.svc = PodmanService(root)
        self.svc.write_config()
        self.image = image_ref
        self.next_ip = 10
        self.cli(
            "network", "create", "--subnet", RAW_SUBNET, "--gateway", RAW_SUBNET.replace("0/24", "1"),
            "--disable-dns", "rawbench",
        )  # fmt: skip
        self.cli("pull", "--tls-verify=false", "-q", image_ref)

    def cli(self, *args: str) -> str:
        r = subprocess.run(["podman", *self.svc.global_args(), *args], env=self.svc.env, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)}: {r.stderr.strip()}")
        return r.stdout

    def pod_commands(self, name: str) -> list[list[str]]:
        ip = RAW_SUBNET.replace("0/24", str(self.next_ip))
        self.next_ip += 1
        g = self.svc.global_args()
        limits = ["--memory", "1g", "--cpus", "1"]
        return [
            ["podman", *g, "pod", "create", "--name", name, "--network", "rawbench", "--ip", ip, *limits],
            ["podman", *g, "run", "-d", "--pod", name, "--name", f"{name}-app", *limits, "--pids-limit", "1024",
             "--security-opt", "no-new-privileges", self.image, *IMAGE_SLEEP],
        ]  # fmt: skip

    def create(self, name: str) -> float:
        t = time.perf_counter()
        for cmd in self.pod_commands(name):
            subprocess.run(cmd, env=self.svc.env, capture_output=True, check=True)
        return time.perf_counter() - t

    def burst(self, n: int) -> float:
        scripts = [" && ".join(" ".join(c) for c in self.pod_commands(f"b{uuid.uuid4().hex[:8]}")) for _ in range(n)]
        t = time.perf_counter()
        procs = [subprocess.Popen(["sh", "-c", s], env=self.svc.env, stdout=subprocess.DEVNULL) for s in scripts]
        codes = [p.wait() for p in procs]
        elapsed = time.perf_counter() - t
        if any(codes):
            raise RuntimeError("a raw podman run failed")
        return elapsed

    def clean(self) -> None:
        self.cli("pod", "rm", "-fa", "-t", "0")
        self.next_ip = 10

    def close(self) -> None:
        subprocess.run(
            ["podman", *self.svc.global_args(), "pod", "rm", "-fa", "-t", "0"], env=self.svc.env, capture_output=True
        )
        subprocess.run(
            ["podman", *self.svc.global_args(), "network", "rm", "-f", "rawbench"],
            env=self.svc.env,
            capture_output=True,
        )
        unmount_under(self.svc.data_dir)
        unmount_under(self.svc.run_dir)
        shutil.rmtree(self.svc.run_dir, ignore_errors=True)


def running(jd: Jd, pod_ids: list[str], timeout: float = 120, every: float = 0.01) -> dict[str, float]:
    """Poll describePods every ``every`` s until every pod runs; when each was first seen running."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(pod_ids):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"pods did not run in {timeout}s")
        from jdcloud_sdk.services.common.models.Filter import Filter

        pending = [p for p in pod_ids if p not in seen]
        for i in range(0, len(pending), 100):
            batch = pending[i : i + 100]
            for pod in jd.pods(filters=[Filter("podId", batch)], pageSize=100)["pods"]:
                if pod["podStatus"]["phase"] == "running":
                    seen.setdefault(pod["podId"], time.perf_counter())
        time.sleep(every)
    return seen


def podyard_create(jd: Jd, image: str, count: int = 1) -> tuple[list[str], float, list[float]]:
    spec = pod_spec(
        jd.account,
        f"b-{uuid.uuid4().hex[:8]}",
        [container(image=image, command=IMAGE_SLEEP)],
        terminationGracePeriodSeconds=0,
    )
    t = time.perf_counter()
    ids = jd.create_pods(spec, count)
    seen = running(jd, ids)
    return ids, max(seen.values()) - t, [v - t for v in seen.values()]


def delete_all(podyard: Podyard, jd: Jd) -> None:
    ids = [p["podId"] for p in jd.pods(pageSize=100)["pods"]]
    while ids:
        for pod_id in ids:
            with suppress(Exception):
                jd.call("deletePod", pod_id)
        wait_for(lambda: jd.pods(pageSize=100)["totalCount"] == 0, 300, "the pods to go")
        ids = [p["podId"] for p in jd.pods(pageSize=100)["pods"]]


def section_single(podyard: Podyard, jd: Jd, raw: RawPodman, image: str, n: int) -> dict[str, Any]:
    ours = [podyard_create(jd, image)[1] for _ in range(n)]
    delete_all(podyard, jd)
    theirs = [raw.create(f"s{i}") for i in range(n)]
    raw.clean()
    return {
        "podyard_s": summary(ours),
        "podman_s": summary(theirs),
        "ratio_p50": statistics.median(ours) / statistics.median(theirs),
    }


def section_burst(podyard: Podyard, jd: Jd, raw: RawPodman, image: str, n: int) -> dict[str, Any]:
    _, elapsed, _ = podyard_create(jd, image, n)
    delete_all(podyard, jd)
    raw_elapsed = raw.burst(n)
    raw.clean()
    ours, theirs = n / elapsed, n / raw_elapsed
    return {"count": n, "podyard_pods_per_s": ours, "podman_pods_per_s": theirs, "ratio": ours / theirs}


def section_exec_logs(podyard: Podyard, jd: Jd, image: str, n: int) -> dict[str, Any]:
    spec = pod_spec(
        jd.account,
        f"x-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=["sh", "-c", "seq 1 1000; exec sleep 100000"])],
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    running(jd, [pod_id])
    wait_for(lambda: "1000" in jd.call("getContainerLogs", pod_id, "app", tailLines=1)["logs"]["content"], 30)
    ctr = f"{pod_id}-app"
    ours_exec, theirs_exec, ours_logs, theirs_logs = [], [], [], []
    g, env = podyard.podman_service.global_args(), podyard.podman_service.env
    for _ in range(n):
        t = time.perf_counter()
        exec_id = jd.call("execCreate", pod_id, "app", ["true"])["execId"]
        JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id).read_to_end()
        assert jd.call("execGetExitCode", pod_id, "app", exec_id)["execCode"] == 0
        ours_exec.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["podman", *g, "exec", ctr, "true"], env=env, check=True, capture_output=True)
        theirs_exec.append(time.perf_counter() - t)
        t = time.perf_counter()
        jd.call("getContainerLogs", pod_id, "app", tailLines=100)
        ours_logs.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["podman", *g, "logs", "--tail", "100", ctr], env=env, check=True, capture_output=True)
        theirs_logs.append(time.perf_counter() - t)
    delete_all(podyard, jd)
    return {
        "exec": {
            "podyard_s": summary(ours_exec),
            "podman_s": summary(theirs_exec),
            "ratio_p50": statistics.median(ours_exec) / statistics.median(theirs_exec),
        },
        "logs": {
            "podyard_s": summary(ours_logs),
            "podman_s": summary(theirs_logs),
            "ratio_p50": statistics.median(ours_logs) / statistics.median(theirs_logs),
        },
    }


def section_density(podyard: Podyard, jd: Jd, image: str, n: int) -> dict[str, Any]:
    assert podyard.proc is not None
    pid = podyard.proc.pid
    before = rss_kib(pid)
    latencies: list[float] = []
    count = 0
    while count < n:
        _, elapsed, _ = podyard_create(jd, image)
        latencies.append(elapsed)
        count += 1
        if count >= 20 and pct(latencies[-20:], 0.99) > 5.0:
            break
    time.sleep(3)  # let the reconciler settle
    after = rss_kib(pid)
    result = {
        "pods": count,
        "create_to_running_s": summary(latencies),
        "last_20_p99_s": pct(latencies[-20:], 0.99),
        "podyard_rss_before_mib": before / 1024,
        "podyard_rss_after_mib": after / 1024,
        "podyard_kib_per_pod": (after - before) / count,
    }
    delete_all(podyard, jd)
    return result


def section_api(seconds: float, pods: int, workdir: Path) -> dict[str, Any]:
    """The API's own cost: podyard on the fake runtime against a fixed-body endpoint on the
    same server stack, each loaded by one concurrent client process signing as the SDK."""
    out: dict[str, Any] = {}
    port, mport = free_port(), free_port()
    py = sys.executable
    with ExitStack() as stack:
        server = subprocess.Popen(
            [
                py,
                "-m",
                "bench.fake_server",
                "--port",
                str(port),
                "--data-dir",
                str(workdir / "fake"),
                "--pods",
                str(pods),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(server.terminate)
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        wait_for(lambda: _listening(port), 30, "the fake-runtime podyard to listen")
        ak, sk = info["accessKey"], info["secretKey"]

        def load(endpoint: str, action: str, **extra: str) -> dict[str, Any]:
            args = [
                py,
                "-m",
                "bench.load",
                "--endpoint",
                endpoint,
                "--ak",
                ak,
                "--sk",
                sk,
                "--action",
                action,
                "--seconds",
                str(seconds),
            ]
            for k, v in extra.items():
                args += [f"--{k.replace('_', '-')}", v]
            return dict(json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout))

        for action, extra in (
            ("describePod", {"pod_id": info["podId"]}),
            ("describePods", {}),
            ("createPods", {"subnet": info["subnetId"], "sg": info["securityGroupId"]}),
        ):
            sample = _sample_size(info, action, port)
            minimal = subprocess.Popen(
                [py, "-m", "bench.minimal_server", "--port", str(mport), "--size", str(sample)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert minimal.stdout is not None
            minimal.stdout.readline()
            wait_for(lambda: _listening(mport), 20, "the minimal endpoint to listen")
            base = load(f"127.0.0.1:{mport}", action, **extra)
            minimal.terminate()
            minimal.wait()
            ours = load(f"127.0.0.1:{port}", action, **extra)
            out[action] = {
                "podyard": ours,
                "minimal": base,
                "rps_ratio": ours["rps"] / base["rps"],
                "body_bytes": sample,
            }
        server.terminate()
        server.wait()
    return out


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _sample_size(info: dict[str, Any], action: str, port: int) -> int:
    """The size of podyard's answer to this action, for the minimal endpoint to match."""
    from tests.jd import Account

    jd = Jd(f"127.0.0.1:{port}", Account.from_creds(info))
    if action == "describePod":
        return len(json.dumps({"requestId": "0" * 32, "result": {"pod": jd.pod(info["podId"])}}))
    if action == "describePods":
        return len(json.dumps({"requestId": "0" * 32, "result": jd.pods(pageSize=20)}))
    return len(json.dumps({"requestId": "0" * 32, "result": {"podIds": ["pod-0123456789"]}}))


def versions() -> dict[str, str]:
    podman = subprocess.run(["podman", "--version"], capture_output=True, text=True).stdout.strip()
    return {"podyard": __version__, "python": platform.python_version(), "podman": podman, "kernel": platform.release()}


def machine() -> dict[str, Any]:
    mem = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    return {"cpus": os.cpu_count(), "memory": mem.split(":")[1].strip(), "platform": platform.platform()}


def table(r: dict[str, Any]) -> str:
    t = r["targets"]
    rows = [("measure", "podyard", "baseline", "ratio", "target", "met")]

    def ms(x: float) -> str:
        return f"{x * 1000:.0f} ms"

    if "single" in r:
        s = r["single"]
        rows.append(
            (
                "create→Running p50 (one at a time)",
                ms(s["podyard_s"]["p50"]),
                ms(s["podman_s"]["p50"]) + " (podman)",
                f"{s['ratio_p50']:.2f}x",
                "≤ 1.3x",
                t["single_p50"],
            )
        )
        rows.append(
            (
                "create→Running p99",
                ms(s["podyard_s"]["p99"]),
                ms(s["podman_s"]["p99"]) + " (podman)",
                "",
                "≤ 5 s",
                t["single_p99"],
            )
        )
    for b in r.get("bursts", []):
        rows.append(
            (
                f"burst of {b['count']}: pods/s",
                f"{b['podyard_pods_per_s']:.1f}",
                f"{b['podman_pods_per_s']:.1f} (podman)",
                f"{b['ratio']:.2f}x",
                "≥ 0.8x",
                t[f"burst_{b['count']}"],
            )
        )
    if "api" in r:
        for action, a in r["api"].items():
            p, m = a["podyard"], a["minimal"]
            rows.append(
                (
                    f"{action} req/s (fake runtime)",
                    f"{p['rps']:.0f}",
                    f"{m['rps']:.0f} (minimal)",
                    f"{a['rps_ratio']:.2f}x",
                    {"describePod": "≥ 0.5x, ≥ 2000/s", "describePods": "-", "createPods": "-"}[action],
                    t.get(f"api_{action}_rps", ""),
                )
            )
            rows.append(
                (
                    f"{action} p99",
                    f"{p['p99_ms']:.1f} ms",
                    f"{m['p99_ms']:.1f} ms (minimal)",
                    "",
                    {"describePod": "< 20 ms", "describePods": "< 50 ms", "createPods": "-"}[action],
                    t.get(f"api_{action}_p99", ""),
                )
            )
    if "exec_logs" in r:
        for k, label in (("exec", "exec round trip p50"), ("logs", "logs tail 100 p50")):
            e = r["exec_logs"][k]
            rows.append(
                (
                    label,
                    ms(e["podyard_s"]["p50"]),
                    ms(e["podman_s"]["p50"]) + " (podman CLI)",
                    f"{e['ratio_p50']:.2f}x",
                    "≤ 2x",
                    t[k],
                )
            )
    if "density" in r:
        d = r["density"]
        rows.append(
            (
                f"density: {d['pods']} idle pods, create p99",
                ms(d["create_to_running_s"]["p99"]),
                "",
                "",
                "≤ 5 s",
                t["density_p99"],
            )
        )
        rows.append(
            (
                "podyard RSS per idle pod",
                f"{d['podyard_kib_per_pod']:.0f} KiB",
                f"{d['podyard_rss_after_mib']:.0f} MiB total",
                "",
                "< 1 MiB",
                t["density_rss"],
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(6)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def judge(r: dict[str, Any]) -> dict[str, str]:
    def yes(ok: bool) -> str:
        return "yes" if ok else "NO"

    t: dict[str, str] = {}
    if "single" in r:
        t["single_p50"] = yes(r["single"]["ratio_p50"] <= 1.3)
        t["single_p99"] = yes(r["single"]["podyard_s"]["p99"] <= 5.0)
    for b in r.get("bursts", []):
        t[f"burst_{b['count']}"] = yes(b["ratio"] >= 0.8)
    if "api" in r:
        a = r["api"]
        t["api_describePod_rps"] = yes(
            a["describePod"]["rps_ratio"] >= 0.5 and a["describePod"]["podyard"]["rps"] >= 2000
        )
        t["api_describePod_p99"] = yes(a["describePod"]["podyard"]["p99_ms"] < 20)
        t["api_describePods_p99"] = yes(a["describePods"]["podyard"]["p99_ms"] < 50)
    if "exec_logs" in r:
        t["exec"] = yes(r["exec_logs"]["exec"]["ratio_p50"] <= 2)
        t["logs"] = yes(r["exec_logs"]["logs"]["ratio_p50"] <= 2)
    if "density" in r:
        t["density_p99"] = yes(r["density"]["create_to_running_s"]["p99"] <= 5)
        t["density_rss"] = yes(r["density"]["podyard_kib_per_pod"] < 1024)
    return t


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
                {"PODYARD_NETWORK_POOL": POOL, "PODYARD_QUOTA_POD": "2000", "PODYARD_QUOTA_CONTAINER": "8000"}
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
    main()
