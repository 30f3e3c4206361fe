"""podyard's own Podman: a private store, a private config, a private API socket.

podyard starts ``podman system service`` with its own ``--root``/``--runroot``,
containers.conf (runc, cgroupfs, file events, rlimits this machine allows) and
registries.conf, and restarts it if it dies. Containers outlive the service and
podyard itself (conmon keeps them), so a restart of podyard loses no pod.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

CONTAINERS_CONF = """\
# Written by podyard; its private Podman reads only this file.
[containers]
# Podman's default rlimits exceed what this kind of machine allows
# (setrlimit fails, the infra container included).
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
log_driver = "k8s-file"
log_size_max = 10485760
pids_limit = {pids_limit}

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{tmp_dir}"
volume_path = "{volume_path}"
# A private lock directory, not the machine-wide /libpod_lock shared memory.
lock_type = "file"
# How long an ended exec (and its conmon) is kept for its exit code: podyard reads the
# code when the exec's stream ends, so seconds do; Podman's 300 s would keep a conmon
# per exec probe for five minutes.
exit_command_delay = 10

[network]
network_backend = "netavark"
network_config_dir = "{network_dir}"
"""


# Podman's userns=auto takes ranges from the subordinate ids of this user (its default).
USERNS_USER = "containers"
SUBORDINATE_IDS = (Path("/etc/subuid"), Path("/etc/subgid"))


def _has_range(ids: Path, user: str) -> bool:
    try:
        return any(line.split(":", 1)[0] == user for line in ids.read_text().splitlines())
    except FileNotFoundError:
        return False


def unmount_under(path: Path) -> None:
    """Unmount what is mounted under ``path`` (the store's overlays), deepest first."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for m in sorted((m for m in mounts if m.startswith(f"{path}/") or m == str(path)), key=len, reverse=True):
        subprocess.run(["umount", "-l", m], check=False)


def registries_conf(insecure: list[str]) -> str:
    lines = [
        "# Written by podyard.",
        'unqualified-search-registries = ["docker.io"]',
        'short-name-mode = "permissive"',
    ]
    for location in insecure:
        lines += ["", "[[registry]]", f'location = "{location}"', "insecure = true"]
    return "\n".join(lines) + "\n"


@dataclass
class PodmanService:
    data_dir: Path
    podman: str = "podman"
    insecure_registries: list[str] = field(default_factory=list)
    pids_limit: int = 1024
    _proc: asyncio.subprocess.Process | None = None
    _watch: asyncio.Task[None] | None = None
    _stopping: bool = False

    def __post_init__(self) -> None:
        self.data_dir = self.data_dir.resolve()
        key = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        self.root = self.data_dir / "podman" / "storage"
        # Runtime state belongs on /run (a tmpfs on a booted machine), keyed by data dir.
        self.run_dir = (
            Path("/run/podyard") / key
            if os.geteuid() == 0
            else Path(os.environ.get("XDG_RUNTIME_DIR", "/tmp")) / "podyard" / key
        )
        self.runroot = self.run_dir / "storage"
        self.socket = self.run_dir / "podman.sock"
        self.conf = self.data_dir / "podman" / "containers.conf"
        self.registries = self.data_dir / "podman" / "registries.conf"

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTAINERS_CONF": str(self.conf),
            "CONTAINERS_REGISTRIES_CONF": str(self.registries),
        }

    def global_args(self) -> list[str]:
        return [
            "--root", str(self.root),
            "--runroot", str(self.runroot),
            "--storage-driver", "overlay",
            "--cgroup-manager", "cgroupfs",
            "--events-backend", "file",
        ]  # fmt: skip

    def write_config(self) -> None:
        for d in (self.root, self.runroot, self.data_dir / "podman" / "networks", self.data_dir / "podman" / "volumes"):
            d.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            CONTAINERS_CONF.format(
                pids_limit=self.pids_limit,
                tmp_dir=self.run_dir / "libpod",
                volume_path=self.data_dir / "podman" / "volumes",
                network_dir=self.data_dir / "podman" / "networks",
            )
        )
        self.registries.write_text(registries_conf(self.insecure_registries))

    def check_installed(self) -> None:
        missing = [b for b in (self.podman, "runc", "conmon") if not shutil.which(b)]
        if missing:
            raise SystemExit(
                f"podyard needs {', '.join(missing)}: install them (apt-get install -y podman runc) and retry"
            )
        for ids in SUBORDINATE_IDS:
            if not _has_range(ids, USERNS_USER):
                raise SystemExit(
                    f"podyard gives every pod its own user namespace from the ids {ids} holds for "
                    f"{USERNS_USER!r}, and it holds none: add a line such as "
                    f"'{USERNS_USER}:2147483647:2147483648' (scripts/bootstrap does) and retry"
                )

    async def start(self) -> None:
        self.check_installed()
        self.write_config()
        self._kill_leftover()
        await self._spawn()
        self._watch = asyncio.create_task(self._supervise(), name="podman-service")

    def _kill_leftover(self) -> None:
        """A service left by a podyard that was killed still holds the socket: end it."""
        pid_file = self.run_dir / "podman.pid"
        with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            pid = int(pid_file.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if str(self.socket).encode() in cmdline:
                os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()

    async def _spawn(self) -> None:
        log_file = open(self.data_dir / "podman" / "service.log", "ab")  # noqa: SIM115 - the child owns it
        self._proc = await asyncio.create_subprocess_exec(
            self.podman,
            *self.global_args(),
            "system",
            "service",
            "--time=0",
            f"unix://{self.socket}",
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
        )
        log_file.close()
        (self.run_dir / "podman.pid").write_text(str(self._proc.pid))
        await self._wait_ready()

    async def _wait_ready(self, timeout: float = 60.0) -> None:
        transport = httpx.AsyncHTTPTransport(uds=str(self.socket))
        async with httpx.AsyncClient(transport=transport, base_url="http://podman") as client:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                if self._proc is not None and self._proc.returncode is not None:
                    raise RuntimeError(
                        f"podman system service exited with {self._proc.returncode}; "
                        f"see {self.data_dir / 'podman' / 'service.log'}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/v4.0.0/libpod/_ping")).status_code == 200:
                        return
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError("podman system service did not answer in time")
                await asyncio.sleep(0.05)

    async def _supervise(self) -> None:
        delay = 0.5
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            log.error("podman system service exited with %s; restarting in %.1fs", code, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)
            try:
                await self._spawn()
                delay = 0.5
            except Exception:
                log.exception("restarting podman system service failed")

    async def stop(self) -> None:
        self._stopping = True
        if self._watch:
            self._watch.cancel()
        if self._proc and self._proc.returncode is None:
            self._proc.terminate()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
