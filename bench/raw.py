"""The baseline: raw Podman by hand through its CLI, with its own store and a bridge network."""

from __future__ import annotations

import shutil
import subprocess
import time
import uuid
from pathlib import Path

from bench.pods import IMAGE_SLEEP
from drive.harness import unmount_under
from podyard.runtime.podman.service import PodmanService

RAW_SUBNET = "10.228.0.0/24"  # raw Podman's network


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
