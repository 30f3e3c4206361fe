"""What probes cost: N pods (100 by default) probed every 10 s, against the same pods unprobed.

    .venv/bin/python -m bench.probes [--pods 100] [--seconds 60] [--json FILE]

One live podyard on its own Podman (the e2e harness; subnets from 10.229.0.0/16, all
host-local) runs N pods, each one busybox container serving ``httpd -f -p 8080 -h /www``,
created through the official SDK in maxCount batches. Four phases, one after another:

    idle       the pods without probes: the baseline
    cli        the same pods, no probes, and the naive exec check: one ``podman exec CTR
               true`` CLI process per check, N checks every 10 s spread over the period,
               on podyard's own Podman store
    http+tcp   a fresh set of N pods with readinessProbe httpGet :8080 / and livenessProbe
               tcpSocket :8080, both every 10 s from the start (the SDK's ProbeSpec)
    http+exec  a fresh set with the same readiness probe and livenessProbe exec ``true``

After each set runs (and, with probes, is ready) and a settling pause, CPU time is taken
over ``--seconds`` (shares are % of one core): podyard's process and its Podman service
(utime + stime in /proc/PID/stat), the pods' cgroups (cpuacct: each pod's containers and
conmons, with the runc each conmon runs, ended processes included), the CLI processes this
script ran (getrusage of its waited children), and the whole machine (/proc/stat, a check
that nothing is missed and that nothing else ran); VmRSS at the end. That the checks ran is
checked, not assumed: the pods' network namespaces count the TCP connections accepted
(/proc/PID/net/snmp), Podman's event log the exec sessions (and the interval between two
in one container), describePods gives every container's readiness and restartCount
before and after, and podyard's log its verdict changes and liveness restarts. The conmon processes on the
machine are counted at the end of each phase: Podman keeps the conmon of an exec made
through its API for ``exit_command_delay`` (containers.conf, 300 s unless set) after the
exec ends. The phases take about 7 minutes for 100 pods; ``--only`` runs some of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.ExecSpec import ExecSpec
from jdcloud_sdk.services.pod.models.HgSpec import HgSpec
from jdcloud_sdk.services.pod.models.ProbeSpec import ProbeSpec
from jdcloud_sdk.services.pod.models.TcpSocketSpec import TcpSocketSpec

from bench.host import machine, versions
from bench.pods import delete_all, running
from bench.stats import rss_kib
from drive.harness import Podyard, Registry, unmount_under
from drive.jd import Jd, container, pod_spec
from podyard.runtime.podman.service import PodmanService

POOL = "10.229.0.0/16"  # podyard's subnets in this benchmark (host-local bridges)
PERIOD = 10  # seconds between two checks of a probe
PORT = 8080
HTTPD = f"mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p {PORT} -h /www"
HZ = os.sysconf("SC_CLK_TCK")


# -- what the machine shows ------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    """utime + stime of a process (all its threads), in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_busy() -> int:
    """Busy clock ticks of all CPUs together, since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def processes(name: str) -> Iterator[tuple[int, bytes]]:
    """(pid, command line) of every process whose program is ``name``."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline and os.path.basename(cmdline.split(b"\0", 1)[0]) == name.encode():
            yield int(entry.name), cmdline


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split among the processes sharing them."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def conmons(mark: str) -> dict[str, Any]:
    """The conmon processes on the machine, and those of the Podman whose run dir is ``mark``."""
    everyone = list(processes("conmon"))
    ours = [(pid, cmd.split(b"\0")) for pid, cmd in everyone if mark.encode() in cmd]
    rss = pss = 0
    for pid, _ in ours:
        with suppress(OSError):
            rss += rss_kib(pid)
            pss += pss_kib(pid)
    # -c: the container; -u: the session (the container's own id, or an exec session's)
    sessions = {
        (args[args.index(b"-c") + 1], args[args.index(b"-u") + 1])
        for _, args in ours
        if b"-u" in args and b"-c" in args
    }
    return {
        "machine": len(everyone),
        "ours": len(ours),
        "ours_sessions": len(sessions),
        "ours_exec_sessions": sum(c != u for c, u in sessions),
        "ours_rss_mib": rss / 1024,
        "ours_pss_mib": pss / 1024,
    }


def others() -> set[str]:
    """Other heavy jobs on the machine (test runs, benchmarks), which would skew its CPU."""
    mine = {os.getpid()}
    pid = os.getppid()
    while pid > 1:  # this run's own ancestors (a timeout, a shell) are no other job
        mine.add(pid)
        with suppress(OSError):
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            continue
        break
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) not in mine:
            with suppress(OSError):
                cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                if "pytest" in cmd or "bench." in cmd:
                    found.add(f"{entry.name} {cmd[:100]}")
    return found


def zombie_conmons() -> int:
    """conmon processes that have ended and wait for their parent to reap them."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                comm, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
                count += comm == "conmon" and rest.split()[0] == "Z"
    return count


def pgrep_conmon() -> int:
    r = subprocess.run(["pgrep", "-c", "conmon"], capture_output=True, text=True, check=False)
    return int(r.stdout.strip() or 0)


def kill_conmons(mark: str) -> int:
    """End the conmons our Podman left (API execs waiting out exit_command_delay)."""
    pids = [pid for pid, cmd in processes("conmon") if mark.encode() in cmd]
    for pid in pids:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(pids)


def pod_cgroup(pid: int) -> Path | None:
    """The CPU accounting cgroup of the pod a container process runs in (cgroup v1's
    cpuacct, or v2): it holds the pod's containers and its conmons, with the runc each
    conmon runs; its counter keeps the CPU of processes that have ended."""
    try:
        text = Path(f"/proc/{pid}/cgroup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        if "cpuacct" in controllers.split(","):
            return Path("/sys/fs/cgroup/cpuacct" + path).parent
    for line in text.splitlines():
        if line.startswith("0::"):
            return Path("/sys/fs/cgroup" + line[3:]).parent
    return None


def cgroup_cpu_ns(group: Path) -> int:
    """CPU time used in the cgroup and below, in ns (0 if it is gone)."""
    with suppress(OSError):
        if (group / "cpuacct.usage").exists():
            return int((group / "cpuacct.usage").read_text())
        usage = (group / "cpu.stat").read_text().split()
        return int(usage[usage.index("usage_usec") + 1]) * 1000
    return 0


def exit_command_delay(conf: Path) -> str:
    m = re.search(r"^\s*exit_command_delay\s*=\s*(\S+)", conf.read_text(), re.M)
    return m.group(1) if m else "unset (Podman's default: 300 s)"


def passive_opens(pids: list[int]) -> int:
    """TCP connections accepted in the network namespaces of these processes, so far."""
    total = 0
    for pid in pids:
        with suppress(OSError):
            lines = [line.split() for line in Path(f"/proc/{pid}/net/snmp").read_text().splitlines()]
            tcp = [line for line in lines if line and line[0] == "Tcp:"]
            total += int(tcp[1][tcp[0].index("PassiveOpens")])
    return total


# -- podyard's pods ---------------------------------------------------------------------------


@dataclass
class Setup:
    podyard: Podyard
    jd: Jd
    image: str
    podman_pid: Callable[[], int]
    events: Path

    @property
    def pid(self) -> int:
        assert self.podyard.proc is not None
        return self.podyard.proc.pid

    @property
    def mark(self) -> str:
        return str(self.podyard.podman_service.run_dir)


def probes(liveness: str) -> dict[str, ProbeSpec]:
    """readinessProbe httpGet :8080 /, and livenessProbe ``tcp`` or ``exec``, every 10 s."""
    every = {"initialDelaySeconds": 0, "periodSeconds": PERIOD}
    live = (
        ProbeSpec(**every, tcpSocket=TcpSocketSpec(PORT))
        if liveness == "tcp"
        else ProbeSpec(**every, exec_=ExecSpec(["true"]))
    )
    return {"readinessProbe": ProbeSpec(**every, httpGet=HgSpec(PORT, "/")), "livenessProbe": live}


def create_set(s: Setup, n: int, batch: int, fields: dict[str, Any]) -> tuple[list[str], float]:
    """N pods in maxCount batches, until all run; and how long that took."""
    ids: list[str] = []
    t = time.perf_counter()
    while len(ids) < n:
        spec = pod_spec(
            s.jd.account,
            f"pb-{uuid.uuid4().hex[:6]}",
            [container(image=s.image, command=["sh", "-c", HTTPD], **fields)],
            terminationGracePeriodSeconds=0,
        )
        ids += s.jd.create_pods(spec, min(batch, n - len(ids)))
    running(s.jd, ids, timeout=max(120, 3 * n))
    return ids, time.perf_counter() - t


def statuses(jd: Jd, ids: list[str]) -> list[dict[str, Any]]:
    pods: list[dict[str, Any]] = []
    for i in range(0, len(ids), 100):
        pods += jd.pods(filters=[Filter("podId", ids[i : i + 100])], pageSize=100)["pods"]
    return pods


def health(jd: Jd, ids: list[str]) -> dict[str, int]:
    pods = statuses(jd, ids)
    cs = [p["containers"][0]["containerStatus"] for p in pods]
    return {
        "pods": len(pods),
        "running": sum(p["podStatus"]["phase"] == "running" for p in pods),
        "ready": sum(bool(c["ready"]) for c in cs),
        "restarts": sum(int(c["restartCount"] or 0) for c in cs),
    }


def ready_within(jd: Jd, ids: list[str], timeout: float) -> tuple[float | None, dict[str, int]]:
    """Seconds until every container is ready (None: not within ``timeout``), and how the
    pods stood last."""
    t = time.perf_counter()
    while True:
        h = health(jd, ids)
        if h["ready"] == len(ids):
            return time.perf_counter() - t, h
        if time.perf_counter() - t > timeout:
            return None, h
        time.sleep(0.5)


def probe_log(log: Path, since: int) -> dict[str, Any]:
    """What podyard logged of its probes after byte ``since`` of its log: verdict changes,
    liveness restarts, checks not run (Podman unreachable), and a few of the messages."""
    with log.open("rb") as f:
        f.seek(since)
        lines = [line.decode(errors="replace") for line in f]
    restarts = [line for line in lines if "restarting it" in line]
    return {
        "ready_true": sum("ready=True" in line for line in lines),
        "ready_false": sum("ready=False" in line for line in lines),
        "liveness_restarts": len(restarts),
        "not_run": sum("probe not run" in line for line in lines),
        "examples": sorted({line.split(": ", 2)[-1].strip()[:200] for line in restarts})[:5],
    }


def infra_pids(s: Setup, ids: list[str]) -> list[int]:
    """The PIDs of the pods' infra processes: each holds its pod's network namespace and
    sits in its pod's cgroup, and, unlike the app container, is never restarted."""
    out = s.podyard.podman("ps", "--format", "json")
    wanted = {f"{i}-infra" for i in ids}
    found: list[int] = []
    for c in json.loads(out or "[]"):
        name = c["Names"][0] if isinstance(c["Names"], list) else c["Names"]
        if name in wanted and int(c.get("Pid") or 0) > 0:
            found.append(int(c["Pid"]))
    return found


class ExecEvents:
    """Counts the exec sessions Podman starts, from its event log, as they come. Podman
    rotates that file when it passes its size limit (keeping the newer part), so it is
    read every second and a line is counted once, whenever it is met."""

    MARK = b'"Status":"exec"'

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.count = 0
        self.rotations = 0
        self.rotated_at: list[str] = []
        self.seen: set[bytes] = set()
        self.fresh: list[bytes] = []
        self.poll()
        self.count = 0  # what was there before is not counted
        self.fresh = []

    def poll(self) -> None:
        with suppress(FileNotFoundError), self.path.open("rb") as f:
            end = f.seek(0, os.SEEK_END)
            if end < self.offset:
                self.offset = 0
                self.rotations += 1
                self.rotated_at.append(datetime.now(UTC).isoformat(timespec="milliseconds"))
            f.seek(self.offset)
            data = f.read(end - self.offset)
            complete = data.rfind(b"\n") + 1  # a line still being written is read next time
            self.offset += complete
            for line in data[:complete].splitlines():
                if self.MARK in line and line not in self.seen:
                    self.seen.add(line)
                    self.count += 1
                    self.fresh.append(line)

    def intervals(self) -> dict[str, Any]:
        """Seconds between two exec sessions in the same container: the probe's period as
        it ran (the period, plus however long each check took before the next wait)."""
        times: dict[str, list[datetime]] = {}
        for line in self.fresh:
            with suppress(ValueError, KeyError):
                event = json.loads(line)
                stamp = re.sub(r"(\.\d{6})\d+", r"\1", event["Time"])
                times.setdefault(event["ID"], []).append(datetime.fromisoformat(stamp))
        pairs = [(a, b) for ts in times.values() for a, b in zip(sorted(ts), sorted(ts)[1:], strict=False)]
        gaps = sorted((b - a).total_seconds() for a, b in pairs)
        if not gaps:
            return {}
        long = sorted((a, b) for a, b in pairs if (b - a).total_seconds() > 1.5 * PERIOD)
        return {
            "containers": len(times),
            "n": len(gaps),
            "p50_s": gaps[len(gaps) // 2],
            "p99_s": gaps[int(0.99 * (len(gaps) - 1))],
            "max_s": gaps[-1],
            # a check missing from the log: lost to a rotation (see rotated_at), or not run
            "longer_than_1.5_periods": len(long),
            "long_gaps": [
                [a.isoformat(timespec="milliseconds"), b.isoformat(timespec="milliseconds")] for a, b in long[:10]
            ],
            "rotated_at": self.rotated_at,
        }


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


# -- one window -------------------------------------------------------------------------------


def window(
    s: Setup, seconds: float, pids: list[int], load: Callable[[], dict[str, Any]] | None = None
) -> dict[str, Any]:
    """CPU of podyard, its Podman service, the pods' cgroups (of the containers with these
    PIDs) and the machine over ``seconds`` (while ``load`` runs, if given); RSS and conmons
    at the end; the checks that ran meanwhile."""
    podman = s.podman_pid()
    groups = sorted({g for g in map(pod_cgroup, pids) if g is not None})
    conmon_groups = [g / "conmon" for g in groups]

    def pods_ns() -> tuple[int, int]:
        return sum(map(cgroup_cpu_ns, groups)), sum(map(cgroup_cpu_ns, conmon_groups))

    stop = threading.Event()
    per_second: list[float] = []  # podyard's CPU, each second
    machine_per_second: list[float] = []

    def sample() -> None:
        last, last_m = cpu_ticks(s.pid), machine_busy()
        while not stop.wait(1.0):
            now, now_m = cpu_ticks(s.pid), machine_busy()
            per_second.append(round((now - last) / HZ * 100, 1))
            machine_per_second.append(round((now_m - last_m) / HZ * 100, 1))
            last, last_m = now, now_m
            events.poll()

    foreign = others()
    events, opens0 = ExecEvents(s.events), passive_opens(pids)
    kids0, (g0, c0) = children_cpu(), pods_ns()
    t0, p0, q0, m0 = time.monotonic(), cpu_ticks(s.pid), cpu_ticks(podman), machine_busy()
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    extra = load() if load else {}
    remaining = t0 + seconds - time.monotonic()
    if remaining > 0:
        time.sleep(remaining)
    t1, p1, q1, m1 = time.monotonic(), cpu_ticks(s.pid), cpu_ticks(podman), machine_busy()
    g1, c1 = pods_ns()
    foreign |= others()
    stop.set()
    sampler.join()
    events.poll()
    elapsed = t1 - t0
    if s.podman_pid() != podman:
        extra["podman_service_restarted"] = True

    def share(ticks: int) -> float:
        return ticks / HZ / elapsed * 100

    return {
        "seconds": elapsed,
        "podyard_cpu_pct": share(p1 - p0),
        "podman_service_cpu_pct": share(q1 - q0),
        "machine_cpu_pct": share(m1 - m0),
        "pods_cgroups": len(groups),
        "pods_cgroup_cpu_pct": (g1 - g0) / 1e9 / elapsed * 100,
        "pods_conmon_cgroup_cpu_pct": (c1 - c0) / 1e9 / elapsed * 100,
        "children_cpu_pct": (children_cpu() - kids0) / elapsed * 100,
        "podyard_cpu_pct_per_second": per_second,
        "machine_cpu_pct_per_second": machine_per_second,
        "podyard_rss_mib": rss_kib(s.pid) / 1024,
        "podman_service_rss_mib": rss_kib(podman) / 1024,
        "tcp_accepted": passive_opens(pids) - opens0,
        "exec_sessions": events.count,
        "event_log_rotations": events.rotations,
        "exec_interval": events.intervals(),
        "conmon": conmons(s.mark),
        "pgrep_c_conmon": pgrep_conmon(),
        "zombie_conmons": zombie_conmons(),
        "other_jobs": sorted(foreign),
        **extra,
    }


def cli_load(s: Setup, names: list[str], seconds: float) -> Callable[[], dict[str, Any]]:
    """``podman exec NAME true``, len(names) of them every PERIOD seconds, evenly spread."""
    svc = s.podyard.podman_service
    argv = ["podman", *svc.global_args(), "exec"]

    def run() -> dict[str, Any]:
        interval = PERIOD / len(names)
        start = time.monotonic()
        live: list[subprocess.Popen[bytes]] = []
        failed = k = 0
        late: list[float] = []
        busiest = 0

        def reap() -> None:
            nonlocal failed
            for p in [p for p in live if p.poll() is not None]:
                live.remove(p)
                failed += p.returncode != 0

        while (due := start + k * interval) < start + seconds:
            reap()
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            late.append(time.monotonic() - due)
            live.append(
                subprocess.Popen(
                    [*argv, names[k % len(names)], "true"],
                    env=svc.env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            busiest = max(busiest, len(live))
            k += 1
        for p in live:
            p.wait()
        reap()
        late.sort()
        return {
            "cli_started": k,
            "cli_failed": failed,
            "cli_most_at_once": busiest,
            "cli_start_late_p99_s": late[int(0.99 * (len(late) - 1))] if late else 0.0,
            "cli_seconds": time.monotonic() - start,
        }

    return run


# -- the run ----------------------------------------------------------------------------------


def phase(
    s: Setup, name: str, n: int, batch: int, seconds: float, settle: float, fields: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """A fresh set of N pods with these container fields, measured once it is ready."""
    print(f"[{time.strftime('%X')}] {name}: creating {n} pods", flush=True)
    log0 = size(s.podyard.log)
    ids, created = create_set(s, n, batch, fields)
    ready, before = ready_within(s.jd, ids, 2 * PERIOD + n)
    said = f"ready {ready:.0f}s later" if ready is not None else f"NOT all ready: {before}"
    print(f"[{time.strftime('%X')}] {name}: running in {created:.0f}s, {said}; settling", flush=True)
    pids = infra_pids(s, ids)
    time.sleep(settle)
    print(f"[{time.strftime('%X')}] {name}: measuring {seconds:.0f}s", flush=True)
    r = window(s, seconds, pids)
    r["infra_pids"] = len(pids)
    after = health(s.jd, ids)
    print(f"[{time.strftime('%X')}] {name}: after the window {after}", flush=True)
    r.update(
        {
            "pods": n,
            "create_to_running_s": created,
            "running_to_ready_s": ready,
            "before": before,
            "after": after,
            "probe_log": probe_log(s.podyard.log, log0),
        }
    )
    return r, ids


def remove_set(s: Setup) -> float:
    t = time.perf_counter()
    delete_all(s.podyard, s.jd)
    return time.perf_counter() - t


def keep(log: Path, to: Path) -> None:
    if log.exists():
        shutil.copy(log, to)


PHASES = ("idle", "cli", "http+tcp", "http+exec")
PARTS = ("podyard_cpu_pct", "podman_service_cpu_pct", "pods_cgroup_cpu_pct", "children_cpu_pct")


def attributed(p: dict[str, Any]) -> float:
    """CPU this setup's own processes used: podyard, its Podman service, the pods' cgroups
    (containers, conmons, runc) and the CLI processes this script ran."""
    return float(sum(p[k] for k in PARTS))


def delta(p: dict[str, Any], base: dict[str, Any], checks_per_s: float) -> dict[str, Any]:
    d = {k: p[k] - base[k] for k in (*PARTS, "machine_cpu_pct")}
    d["attributed_cpu_pct"] = attributed(p) - attributed(base)
    d["checks_per_s"] = checks_per_s
    # % of one core per check per second = ms of CPU per check / 10
    for part in ("podyard", "attributed"):
        d[f"{part}_cpu_ms_per_check"] = d[f"{part}_cpu_pct"] * 10 / checks_per_s if checks_per_s else None
    d["podyard_rss_mib"] = p["podyard_rss_mib"] - base["podyard_rss_mib"]
    return d


def derive(r: dict[str, Any], n: int) -> dict[str, Any]:
    """Each phase against the idle pods; exec liveness against tcpSocket liveness."""
    idle = r["idle"]

    def rate(p: dict[str, Any], *keys: str) -> float:
        """Checks per second as seen: connections the pods accepted, exec sessions Podman ran."""
        return float(sum(p[k] for k in keys)) / p["seconds"]

    tcp, ex = r["http+tcp"], r["http+exec"]
    out = {
        "http+tcp": delta(tcp, idle, rate(tcp, "tcp_accepted")),
        "http+exec": delta(ex, idle, rate(ex, "tcp_accepted", "exec_sessions")),
        "exec_over_tcp": delta(ex, tcp, rate(ex, "exec_sessions")),
        "cli": delta(r["cli"], idle, rate(r["cli"], "cli_started")),
    }
    out["nominal_checks_per_s"] = {"http+tcp": 2 * n / PERIOD, "http+exec": 2 * n / PERIOD, "cli": n / PERIOD}
    for key in ("http+tcp", "http+exec"):
        out[key]["podyard_rss_kib_per_pod"] = out[key]["podyard_rss_mib"] * 1024 / n
    out["podyard_rss_kib_per_pod_idle"] = (idle["podyard_rss_mib"] - r["no_pods"]["podyard_rss_mib"]) * 1024 / n
    return out


def table(r: dict[str, Any]) -> str:
    def pct(x: float) -> str:
        return f"{x:.1f}%"

    rows = [
        ("phase", "podyard", "Podman svc", "pods' cgroups", "CLI procs", "machine", "podyard RSS", "seen", "conmons")
    ]
    for key in ("idle", "cli", "http+tcp", "http+exec"):
        p = r["phases"][key]
        rows.append(
            (
                key,
                pct(p["podyard_cpu_pct"]),
                pct(p["podman_service_cpu_pct"]),
                pct(p["pods_cgroup_cpu_pct"]),
                pct(p["children_cpu_pct"]),
                pct(p["machine_cpu_pct"]),
                f"{p['podyard_rss_mib']:.1f} MiB",
                f"{p['tcp_accepted']} tcp, {p['exec_sessions']} exec",
                f"{p['pgrep_c_conmon']} ({p['conmon']['ours']} ours)",
            )
        )
    rows.append(("", "", "", "", "", "", "", "", ""))
    rows.append(("against", "podyard", "Podman svc", "pods' cgroups", "CLI procs", "machine", "podyard RSS", "checks/s",
                 "ms CPU/check"))  # fmt: skip
    for key, label in (
        ("http+tcp", "http+tcp - idle"),
        ("http+exec", "http+exec - idle"),
        ("exec_over_tcp", "http+exec - http+tcp"),
        ("cli", "cli - idle"),
    ):
        d = r["derived"][key]
        rows.append(
            (
                label,
                pct(d["podyard_cpu_pct"]),
                pct(d["podman_service_cpu_pct"]),
                pct(d["pods_cgroup_cpu_pct"]),
                pct(d["children_cpu_pct"]),
                pct(d["machine_cpu_pct"]),
                f"{d['podyard_rss_mib']:+.1f} MiB",
                f"{d['checks_per_s']:.1f}",
                f"{d['attributed_cpu_ms_per_check']:.1f} (podyard {d['podyard_cpu_ms_per_check']:.2f})"
                if d["checks_per_s"]
                else "no checks seen",
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.command()
@click.option("--pods", default=100, help="Pods in each set.")
@click.option("--seconds", default=60.0, help="Seconds each phase is measured.")
@click.option("--settle", default=15.0, help="Seconds between a set being ready and its measure.")
@click.option("--batch", default=50, help="maxCount of each createPods.")
@click.option("--only", default=",".join(PHASES), help="Phases to run (the table needs all).")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
@click.option("--log", "log_path", type=click.Path(path_type=Path), help="Keep podyard's log here.")
def main(
    pods: int, seconds: float, settle: float, batch: int, only: str, json_path: Path | None, log_path: Path | None
) -> None:
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "settings": {"pods": pods, "seconds": seconds, "settle": settle, "batch": batch, "period": PERIOD},
    }
    phases: dict[str, Any] = {}
    result["phases"] = phases

    def save() -> None:
        """After each phase: a run cut short still leaves what it measured."""
        if json_path:
            json_path.write_text(json.dumps(result, indent=2) + "\n")

    work = Path(tempfile.mkdtemp(prefix="podyard-bench-probes-"))
    started = time.monotonic()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        if log_path:
            stack.callback(keep, work / "podyard" / "podyard.log", log_path)
        registry = Registry(work / "registry")
        stack.callback(registry.stop)
        builder = PodmanService(work / "image" / "podman")
        stack.callback(shutil.rmtree, builder.run_dir, True)
        stack.callback(unmount_under, builder.run_dir)
        image = registry.push_busybox(work / "image")
        podyard = Podyard(work / "podyard" / "data", [registry])
        podyard.env.update(
            {"PODYARD_NETWORK_POOL": POOL, "PODYARD_QUOTA_POD": "2000", "PODYARD_QUOTA_CONTAINER": "8000"}
        )
        podyard.env.pop("PODYARD_RESYNC_SECONDS", None)  # podyard's own default, as deployed
        svc = podyard.podman_service
        stack.callback(shutil.rmtree, svc.run_dir, True)
        stack.callback(lambda: print(f"killed {kill_conmons(str(svc.run_dir))} leftover conmon(s)", flush=True))
        podyard.start()
        stack.callback(podyard.cleanup)
        pid_file = svc.run_dir / "podman.pid"
        s = Setup(
            podyard,
            podyard.jd(),
            image,
            lambda: int(pid_file.read_text()),
            svc.run_dir / "libpod" / "events" / "events.log",
        )
        result["settings"]["exit_command_delay"] = exit_command_delay(svc.conf)
        result["settings"]["conmon_before"] = pgrep_conmon()

        create_set(s, 1, 1, {})  # the pause image, the pull, the subnet's bridge
        remove_set(s)
        time.sleep(5)
        phases["no_pods"] = window(s, min(seconds, 10), [])
        save()
        wanted = only.split(",")
        if "idle" in wanted or "cli" in wanted:
            phases["idle"], ids = phase(s, "idle", pods, batch, seconds, settle, {})
            if "cli" in wanted:
                print(f"[{time.strftime('%X')}] cli: podman exec, {pods} every {PERIOD}s, {seconds:.0f}s", flush=True)
                names = [f"{i}-app" for i in ids]
                phases["cli"] = window(s, seconds, infra_pids(s, ids), cli_load(s, names, seconds))
                phases["cli"]["after"] = health(s.jd, ids)
            phases["idle"]["delete_s"] = remove_set(s)
            save()
        for key, liveness in (("http+tcp", "tcp"), ("http+exec", "exec")):
            if key in wanted:
                phases[key], ids = phase(s, key, pods, batch, seconds, settle, probes(liveness))
                phases[key]["delete_s"] = remove_set(s)
                phases[key]["conmon_after_delete"] = conmons(s.mark)
                save()
        if set(PHASES) <= set(phases):
            result["derived"] = derive(phases, pods)
        result["total_seconds"] = time.monotonic() - started
        if "derived" in result:
            print(table(result))
        print(json.dumps(result, indent=2))
        save()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
