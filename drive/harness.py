"""What the end-to-end tests and the benchmarks run against: a live ``podyard serve`` on
real Podman, and local registries (Debian's docker-registry on 127.0.0.1, optionally behind
htpasswd) serving a test image built from Debian's busybox-static."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from drive.jd import Account, Jd
from drive.jdvpc import JdVpc
from podyard.runtime.podman.service import PodmanService

BUSYBOX = "/bin/busybox"
APPLETS = (
    "sh echo cat sleep ls stty env hostname id ps true false wc head tail httpd wget grep sed kill seq "
    "date touch mkdir rm printf dd sha256sum md5sum yes od ping nc df fallocate stat sync chown"
).split()
NETWORK_POOL = "10.225.0.0/16"
ELASTIC_IP_POOL = "127.101.0.0/24"
ELASTIC_IP_INNER_POOL = "10.228.0.0/16"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Missing(RuntimeError):
    pass


def need(binary: str) -> None:
    if not shutil.which(binary):
        raise Missing(f"{binary} is not installed: scripts/bootstrap --test installs what the tests need")


def unmount_under(path: Path) -> None:
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(str(path))), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)


class Registry:
    """Debian's docker-registry (CNCF distribution) on 127.0.0.1; with ``user`` and
    ``password``, behind htpasswd basic auth."""

    def __init__(self, root: Path, user: str | None = None, password: str | None = None) -> None:
        need("docker-registry")
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.creds = f"{user}:{password}" if user else None
        auth = ""
        if user and password:
            need("htpasswd")
            line = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True)
            (root / "htpasswd").write_text(line.stdout)
            auth = f"auth:\n  htpasswd:\n    realm: podyard-tests\n    path: {root / 'htpasswd'}\n"
        config = root / "config.yml"
        config.write_text(
            f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
            f"http:\n  addr: {self.address}\nlog:\n  level: warn\n{auth}"
        )
        self.proc = subprocess.Popen(
            ["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if requests.get(f"http://{self.address}/v2/", timeout=1).status_code in (200, 401):
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the test registry did not start")
            time.sleep(0.1)

    def push_busybox(self, scratch: Path, repository: str = "test/busybox:latest") -> str:
        """Build an image from Debian's busybox-static and push it: returns its reference."""
        need("podman")
        scratch.mkdir(parents=True, exist_ok=True)
        rootfs = scratch / "rootfs"
        (rootfs / "bin").mkdir(parents=True)
        for d in ("etc", "tmp", "proc", "sys", "dev", "root"):
            (rootfs / d).mkdir()
        shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
        for applet in APPLETS:
            (rootfs / "bin" / applet).symlink_to("busybox")
        (rootfs / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        tar = scratch / "rootfs.tar"
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(tar), "."], check=True)
        store = PodmanService(scratch / "podman")
        store.write_config()
        podman = ["podman", *store.global_args()]
        ref = f"{self.address}/{repository}"
        subprocess.run(
            [*podman, "import", "--change", 'CMD ["/bin/sh"]', str(tar), ref],
            check=True,
            env=store.env,
            capture_output=True,
        )
        creds = ["--creds", self.creds] if self.creds else []
        subprocess.run(
            [*podman, "push", "--tls-verify=false", *creds, ref], check=True, env=store.env, capture_output=True
        )
        return ref

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class Podyard:
    """A ``podyard serve`` process; it can be stopped and started again on the same data."""

    def __init__(self, data_dir: Path, registries: list[Registry], **settings: str) -> None:
        """``settings``: more PODYARD_* variables (a second instance's pools)."""
        self.data_dir = data_dir
        self.port = free_port()
        self.endpoint = f"127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PODYARD_NETWORK_POOL": NETWORK_POOL,
            "PODYARD_ELASTIC_IP_POOL": ELASTIC_IP_POOL,
            "PODYARD_ELASTIC_IP_INNER_POOL": ELASTIC_IP_INNER_POOL,
            "PODYARD_INSECURE_REGISTRIES": json.dumps([r.address for r in registries]),
            "PODYARD_RESTART_BACKOFF_SECONDS": "0.5",
            "PODYARD_RESYNC_SECONDS": "2",
            "PODYARD_LOG_LEVEL": "info",
            # The disk tests make a 1,000 GB disk (sparse) on machines with less free space.
            "PODYARD_DISK_OVERCOMMIT": "100",
            **{f"PODYARD_{k.upper()}": v for k, v in settings.items()},
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / "podyard.log"
        self.podman_service = PodmanService(data_dir)

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "podyard", "serve", "--data-dir", str(self.data_dir), "--listen", self.endpoint],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"podyard exited: {self.log.read_text()[-3000:]}")
            try:
                requests.get(f"http://{self.endpoint}/", timeout=1)
                if "Application startup complete" in self.log.read_text():
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"podyard did not start: {self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def admin(self) -> Account:
        return Account.from_creds(json.loads((self.data_dir / "admin-credentials.json").read_text()))

    def jd(self, account: Account | None = None) -> Jd:
        return Jd(self.endpoint, account or self.admin)

    def vpc(self, account: Account | None = None) -> JdVpc:
        """The VPC service's client (credential scope ``vpc``) for an account."""
        return JdVpc(self.endpoint, account or self.admin)

    def new_account(self, name: str) -> Account:
        return Account.from_creds(json.loads(self.accounts("create", name, "--json")))

    def podman(self, *args: str, check: bool = True) -> str:
        """The podman CLI on podyard's private store: to look at what really runs."""
        svc = self.podman_service
        r = subprocess.run(
            ["podman", *svc.global_args(), *args], env=svc.env, capture_output=True, text=True, check=False
        )
        if check and r.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed: {r.stderr}")
        return r.stdout

    def remove_pod(self, name: str, attempts: int = 5) -> None:
        """``podman pod rm -f``, as a user would, tried again while Podman 4.3 (with user
        namespaces) finds a container's shm mount busy for a moment, as podyard does."""
        for attempt in range(attempts):
            try:
                self.podman("pod", "rm", "-f", "-t", "0", name)
                return
            except AssertionError as e:
                if "device or resource busy" not in str(e) or attempt == attempts - 1:
                    raise
                time.sleep(0.5 * 2**attempt)

    def inspect(self, name: str) -> dict[str, Any]:
        return dict(json.loads(self.podman("inspect", name))[0])

    def accounts(self, *args: str) -> str:
        return self.podyard_cli("accounts", *args)

    def podyard_cli(self, *args: str) -> str:
        r = subprocess.run(
            [sys.executable, "-m", "podyard", *args, "--data-dir", str(self.data_dir)],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return r.stdout

    def cleanup(self) -> None:
        """Stopped, and everything it made on the machine removed (`podyard down`), its
        disk pool's loop device too (found by inode: a leaked one may have lost its path)."""
        self.stop()
        self.podyard_cli("down")
        pool = self.data_dir / "disks" / "pool.img"
        if pool.exists():
            st = pool.stat()
            out = subprocess.run(
                ["losetup", "--list", "--json", "--output", "NAME,BACK-INO,BACK-MAJ:MIN"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            over = [
                d["name"]
                for d in json.loads(out or "{}").get("loopdevices", [])
                if int(d["back-ino"] or 0) == st.st_ino
                and str(d["back-maj:min"]).strip() == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}"
            ]
            assert not over, f"loop devices left over the disk pool {pool}: {over}"


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as e:
            last = e
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last}")


def wait_phase(jd: Jd, pod_id: str, phase: str, timeout: float = 90.0) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        pod = jd.pod(pod_id)
        return pod if pod["podStatus"]["phase"] == phase else None

    return dict(wait_for(check, timeout, f"pod {pod_id} to be {phase}"))
