"""PodmanRuntime: the runtime Protocol on the libpod REST API.

A pod is a Podman pod named by its pod id, with an infra container holding the
network namespace (made without interfaces: the network part gives it its
interface once the infra container runs, see podyard.network) and one
container per container spec, named ``{podId}-{name}``. Every object carries
podyard's labels, so podyard recognises its own and touches nothing else.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from podyard.domain.network import mac_for
from podyard.domain.probes import ProbeCheck, ProbeResult
from podyard.domain.secrets import RegistryAuth
from podyard.domain.streams import LOG_FILE_BYTES, ExecState, LogQuery, Stream
from podyard.runtime import logfile, podfiles
from podyard.runtime.logfile import LogKeeper
from podyard.runtime.podman import processes
from podyard.runtime.podman.client import API, LibpodClient, NotFoundInRuntime
from podyard.runtime.podman.hijack import hijack
from podyard.runtime.podman.probes import PodProber
from podyard.runtime.protocol import (
    LABEL_CONTAINER,
    LABEL_GENERATION,
    LABEL_MANAGED,
    LABEL_POD,
    ContainerObservation,
    ContainerRun,
    ContainerRunState,
    ImagePullFailure,
    PodObservation,
    PodRun,
    PodStorage,
    RuntimeFailure,
)

log = logging.getLogger(__name__)

CPU_PERIOD = 100_000
_STATES: dict[str, ContainerRunState] = {
    "created": "created",
    "configured": "created",
    "running": "running",
    "paused": "paused",
    "exited": "exited",
    "stopped": "exited",
    "stopping": "running",
}
_MANAGED = json.dumps({"label": [f"{LABEL_MANAGED}=true"]})
# Container events after which its state may differ. Exec probes make two events each
# (exec, exec_died): a pass over the pod for each would cost more than the probe.
_STATE_EVENTS = frozenset(
    {"create", "init", "start", "restart", "died", "stop", "kill", "pause", "unpause", "cleanup", "remove"}
)


def container_name(pod_id: str, name: str) -> str:
    return f"{pod_id}-{name}"


def infra_name(pod_id: str) -> str:
    return f"{pod_id}-infra"


def _cpu(millis: int) -> dict[str, int]:
    return {"quota": millis * CPU_PERIOD // 1000, "period": CPU_PERIOD}


def _observation(c: dict[str, Any]) -> ContainerObservation | None:
    """A container as libpod lists it; None for a pod's infra container."""
    name = c["Labels"].get(LABEL_CONTAINER)
    if name is None:
        return None
    state = _STATES.get(c["State"], "unknown")
    return ContainerObservation(
        name=name,
        state=state,
        exit_code=c.get("ExitCode") if state == "exited" else None,
        started_at=_time(c.get("StartedAt")),
        finished_at=_time(c.get("ExitedAt")) if state == "exited" else None,
    )


def _inspected(c: dict[str, Any]) -> ContainerObservation | None:
    """A container as libpod inspects it, in the same terms as _observation gives the list's
    (times to the second, as the list has them: the resync compares the two); None for a
    pod's infra container."""
    name = ((c.get("Config") or {}).get("Labels") or {}).get(LABEL_CONTAINER)
    if name is None:
        return None
    s = c.get("State") or {}
    state = _STATES.get(s.get("Status", ""), "unknown")
    exited = state == "exited"
    exit_code = s.get("ExitCode") if exited else None
    return ContainerObservation(
        name=name,
        state=state,
        exit_code=exit_code,
        started_at=_stamp(s.get("StartedAt")),
        finished_at=_stamp(s.get("FinishedAt")) if exited else None,
        oom_killed=exited and exit_code == 137 and bool(s.get("OOMKilled")),
    )


def _pod_observation(pod: dict[str, Any], containers: dict[str, ContainerObservation]) -> PodObservation:
    generation = int((pod.get("Labels") or {}).get(LABEL_GENERATION, "0"))
    name = pod["Name"]
    return PodObservation(pod_id=name, generation=generation, containers=containers, mac_address=mac_for(name))


def _id_range(container: dict[str, Any]) -> tuple[int, int, int] | None:
    """The host ids a container's root is (uid, gid) and how many follow, from its first
    "container:host:size" mappings; None without a user namespace."""
    maps = (container.get("HostConfig") or {}).get("IDMappings") or {}
    uids, gids = maps.get("UidMap") or [], maps.get("GidMap") or []
    if not uids or not gids:
        return None
    _, uid, size = (int(x) for x in uids[0].split(":"))
    _, gid, _ = (int(x) for x in gids[0].split(":"))
    return uid, gid, size


def _time(unix: int | None) -> datetime | None:
    if unix is None or unix <= 0:
        return None
    return datetime.fromtimestamp(unix, UTC)


def _stamp(value: str | None) -> datetime | None:
    """An inspect's RFC 3339 time (nanoseconds, any zone) to the whole second, in UTC; None
    for Go's zero time, which the list gives as a negative Unix time."""
    if not value:
        return None
    head, dot, rest = value.partition(".")
    if dot:  # drop the fraction, keep the zone
        value = head + rest.lstrip("0123456789")
    t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None or t.year <= 1970:
        return None
    return t.astimezone(UTC)


class PodmanRuntime:
    def __init__(self, client: LibpodClient, log_root: Path, userns_size: int = 65536) -> None:
        self.api = client
        self.userns_size = userns_size
        self.log_root = log_root
        self.files_root = log_root.parent / "pod-files"
        self.logs = LogKeeper(log_root)
        self.prober = PodProber(client, self.exec_kill, self.pod_files)

    def pod_files(self, pod_id: str) -> tuple[Path, Path]:
        """The pod's hosts and resolv.conf (see podfiles)."""
        return self.files_root / pod_id / "hosts", self.files_root / pod_id / "resolv.conf"

    def log_path(self, pod_id: str, container: str) -> Path:
        return self.log_root / pod_id / f"{container}.log"

    async def has_image(self, ref: str) -> bool:
        return await self.api.exists(f"/images/{ref}/exists")

    async def pull_image(self, ref: str, auth: RegistryAuth | None) -> None:
        headers = {}
        if auth is not None:
            config = {"username": auth.username, "password": auth.password, "serveraddress": auth.server}
            headers["X-Registry-Auth"] = base64.urlsafe_b64encode(json.dumps(config).encode()).decode()
        error = None
        params = {"reference": ref, "quiet": "true", "policy": "always"}
        async for event in self.api.stream_lines("POST", "/images/pull", params=params, headers=headers):
            if event.get("error"):
                error = str(event["error"]).strip()
        if error:
            raise ImagePullFailure(error)

    async def create_pod(self, pod: PodRun, *, sandbox: bool = False) -> PodObservation:
        labels = {LABEL_MANAGED: "true", LABEL_POD: pod.pod_id, LABEL_GENERATION: str(pod.generation)}
        await asyncio.to_thread(podfiles.write, self.files_root / pod.pod_id, pod)
        await self.api.request(
            "POST",
            "/pods/create",
            json={
                "name": pod.pod_id,
                "hostname": pod.hostname,
                "labels": labels,
                "infra_name": infra_name(pod.pod_id),
                "netns": {"nsmode": "none"},
                # A user namespace of its own: root in the pod is an unprivileged range
                # of host ids that no other pod shares (Podman picks the next free one;
                # its REST API takes the range's size only through idmappings).
                "userns": {"nsmode": "auto"},
                "idmappings": {"AutoUserNs": True, "AutoUserNsOpts": {"Size": self.userns_size}},
                "resource_limits": {"memory": {"limit": pod.memory_bytes}, "cpu": _cpu(pod.cpu_millis)},
            },
        )

        async def containers() -> None:
            for c in pod.containers:
                await self._create_container(pod, c, labels)

        # A pod that is to run: its sandbox starts while its containers are made.
        starting = [self.api.request("POST", f"/containers/{infra_name(pod.pod_id)}/start")] if sandbox else []
        results = await asyncio.gather(containers(), *starting, return_exceptions=True)
        if failed := next((r for r in results if isinstance(r, BaseException)), None):
            await self.remove_pod(pod.pod_id)
            raise failed
        made = {c.name: ContainerObservation(name=c.name, state="created") for c in pod.containers}
        return PodObservation(pod.pod_id, pod.generation, made, mac_for(pod.pod_id))

    async def _create_container(self, pod: PodRun, c: ContainerRun, labels: dict[str, str]) -> None:
        # conmon appends to an existing log; made here, its first rotation is kept too.
        self.logs.prepare(self.log_path(pod.pod_id, c.name))
        spec: dict[str, Any] = {
            "name": container_name(pod.pod_id, c.name),
            "pod": pod.pod_id,
            "image": c.image,
            "labels": {**labels, LABEL_CONTAINER: c.name},
            "env": c.env,
            "terminal": c.tty,
            "stdin": c.tty,
            "stop_timeout": pod.grace_seconds,
            "log_configuration": {
                "driver": "k8s-file",
                "path": str(self.log_path(pod.pod_id, c.name)),
                "size": LOG_FILE_BYTES,
            },
            # Confinement: never privileged; Podman's default capabilities and seccomp
            # profile; no privilege escalation; bounded processes.
            "mounts": [
                {"destination": dest, "source": str(src), "type": "bind", "options": ["rbind"]}
                for dest, src in zip(("/etc/hosts", "/etc/resolv.conf"), self.pod_files(pod.pod_id), strict=True)
            ]
            + [
                {
                    "destination": m.destination,
                    "source": m.source,
                    "type": "bind",
                    # nodev, nosuid: a disk is the pod's, its device nodes and setuid files too.
                    "options": ["rbind", "nodev", "nosuid", "ro" if m.read_only else "rw"],
                }
                for m in c.mounts
            ],
            "privileged": False,
            "no_new_privileges": True,
            "resource_limits": {
                "memory": {"limit": c.memory_bytes},
                "cpu": _cpu(c.cpu_millis),
                "pids": {"limit": pod.pids_limit},
            },
        }
        # Kubernetes semantics: command replaces ENTRYPOINT (and drops CMD), args replace CMD.
        if c.command is not None:
            spec["entrypoint"] = c.command
            spec["command"] = c.args or []
        elif c.args is not None:
            spec["command"] = c.args
        if c.working_dir:
            spec["work_dir"] = c.working_dir
        await self.api.request("POST", "/containers/create", json=spec)

    async def storage(self, pod_id: str) -> PodStorage | None:
        try:
            pod = await self.api.json("GET", f"/pods/{pod_id}/json")
        except NotFoundInRuntime:
            return None
        id_range = None
        layers: dict[str, str] = {}
        for detail in await self._own_containers(pod):
            name = detail["Config"]["Labels"][LABEL_CONTAINER]
            upper = (detail.get("GraphDriver") or {}).get("Data", {}).get("UpperDir")
            if upper:
                layers[name] = str(Path(upper).parent)
            id_range = id_range or _id_range(detail)
        return PodStorage(id_range=id_range, cgroup=pod.get("CgroupPath") or None, layers=layers)

    async def start_sandbox(self, pod_id: str) -> int:
        infra = infra_name(pod_id)
        await self.api.request("POST", f"/containers/{infra}/start")  # 304 when it runs
        state = (await self.api.json("GET", f"/containers/{infra}/json"))["State"]
        if not state.get("Pid"):
            raise RuntimeFailure(f"the sandbox of pod {pod_id} is not running")
        return int(state["Pid"])

    async def start_pod(self, pod_id: str, names: list[str]) -> dict[str, str]:
        await self.api.request("POST", f"/containers/{infra_name(pod_id)}/start")  # 304 when it runs

        async def start(name: str) -> tuple[str, str | None]:
            try:
                await self.api.request("POST", f"/containers/{container_name(pod_id, name)}/start")
            except NotFoundInRuntime:
                return name, None  # removed outside podyard: the next inspect says so
            except RuntimeFailure as e:
                return name, e.message
            return name, None

        results = await asyncio.gather(*(start(n) for n in names))
        return {name: error for name, error in results if error}

    async def start_container(self, pod_id: str, name: str) -> None:
        await self.api.request("POST", f"/containers/{container_name(pod_id, name)}/start")

    async def stop_container(self, pod_id: str, name: str, grace_seconds: int) -> None:
        await self.api.request(
            "POST",
            f"/containers/{container_name(pod_id, name)}/stop",
            params={"timeout": grace_seconds},
            timeout=grace_seconds + 60,
        )

    async def probe(self, pod_id: str, container: str, check: ProbeCheck, pod_ip: str) -> ProbeResult:
        return await self.prober.probe(
            check, container=container_name(pod_id, container), infra=infra_name(pod_id), pod_ip=pod_ip
        )

    async def stop_pod(self, pod_id: str, grace_seconds: int) -> None:
        names = await self._container_names(pod_id)
        await asyncio.gather(
            *(
                self.api.request(
                    "POST",
                    f"/containers/{container_name(pod_id, n)}/stop",
                    params={"timeout": grace_seconds},
                    timeout=grace_seconds + 60,
                )
                for n in names
            )
        )
        with contextlib.suppress(NotFoundInRuntime):
            await self.api.request("POST", f"/containers/{infra_name(pod_id)}/stop", params={"timeout": 0})

    async def remove_pod(self, pod_id: str) -> None:
        with contextlib.suppress(NotFoundInRuntime):
            await self.api.request("DELETE", f"/pods/{pod_id}", params={"force": "true", "t": 0})

    async def _own_containers(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        """The inspects of a pod's own containers (not its infra), found through the pod's
        inspect: Podman 4.3 answers a list with a label filter by walking every container
        it has, which at hundreds of pods made each pass seconds long (bench.run's density
        section stalled at 366 pods)."""
        infra = pod.get("InfraContainerID")
        ids = [c["Id"] for c in pod.get("Containers") or [] if c.get("Id") != infra]
        details = await asyncio.gather(*(self._inspect_container(i) for i in ids))
        return [
            d for d in details if d is not None and LABEL_CONTAINER in ((d.get("Config") or {}).get("Labels") or {})
        ]

    async def _container_names(self, pod_id: str) -> list[str]:
        try:
            pod = await self.api.json("GET", f"/pods/{pod_id}/json")
        except NotFoundInRuntime:
            return []
        return [d["Config"]["Labels"][LABEL_CONTAINER] for d in await self._own_containers(pod)]

    async def inspect_pod(self, pod_id: str) -> PodObservation | None:
        try:
            pod = await self.api.json("GET", f"/pods/{pod_id}/json")
        except NotFoundInRuntime:
            return None
        containers = {o.name: o for d in await self._own_containers(pod) if (o := _inspected(d)) is not None}
        return _pod_observation(pod, containers)

    async def _inspect_container(self, container_id: str) -> dict[str, Any] | None:
        try:
            detail: dict[str, Any] = await self.api.json("GET", f"/containers/{container_id}/json")
        except NotFoundInRuntime:
            return None  # removed since the pod was inspected
        return detail

    async def observe_all(self) -> dict[str, PodObservation]:
        pods = await self.api.json("GET", "/pods/json", params={"filters": _MANAGED})
        found = {p["Name"]: _pod_observation(p, {}) for p in pods}
        listed = await self.api.json("GET", "/containers/json", params={"all": "true", "filters": _MANAGED})
        for c in listed:
            pod = found.get(c["Labels"].get(LABEL_POD, ""))
            observed = _observation(c)
            if pod is not None and observed is not None:
                pod.containers[observed.name] = observed
        return found

    async def delete_logs(self, pod_id: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.log_root / pod_id, True)
        await asyncio.to_thread(shutil.rmtree, self.files_root / pod_id, True)

    async def read_logs(self, pod_id: str, container: str, query: LogQuery) -> bytes:
        return await asyncio.to_thread(logfile.read, self.log_path(pod_id, container), query)

    async def exec_create(self, pod_id: str, container: str, command: list[str], tty: bool) -> str:
        spec = {"Cmd": command, "AttachStdin": True, "AttachStdout": True, "AttachStderr": True, "Tty": tty}
        created = await self.api.json("POST", f"/containers/{container_name(pod_id, container)}/exec", json=spec)
        return str(created["Id"])

    async def exec_start(self, exec_id: str, tty: bool) -> Stream:
        return await hijack(self.api.socket_path, f"{API}/exec/{exec_id}/start", {"Detach": False, "Tty": tty}, tty)

    async def exec_state(self, exec_id: str) -> ExecState | None:
        try:
            info = await self.api.json("GET", f"/exec/{exec_id}/json")
        except NotFoundInRuntime:
            return None
        running = bool(info.get("Running"))
        return ExecState(running=running, exit_code=None if running else info.get("ExitCode"))

    async def exec_kill(self, exec_id: str) -> None:
        try:
            info = await self.api.json("GET", f"/exec/{exec_id}/json")
        except NotFoundInRuntime:
            return
        pid = info.get("Pid") or 0
        if not (info.get("Running") and pid > 0):
            return
        # Only processes still in the container's cgroup are signalled (processes.py).
        try:
            container = await self.api.json("GET", f"/containers/{info['ContainerID']}/json")
        except NotFoundInRuntime:
            return
        main = container["State"].get("Pid") or 0
        cgroup = await asyncio.to_thread(processes.cgroup_of, main) if main > 0 else None
        if cgroup is not None:
            await asyncio.to_thread(processes.kill_tree, pid, cgroup)

    async def exec_resize(self, exec_id: str, height: int, width: int) -> None:
        await self.api.request("POST", f"/exec/{exec_id}/resize", params={"h": height, "w": width})

    async def attach(self, pod_id: str, container: str, stdin: bool) -> Stream:
        detail = await self.api.json("GET", f"/containers/{container_name(pod_id, container)}/json")
        tty = bool(detail["Config"].get("Tty"))
        query = f"stream=true&stdout=true&stderr=true&logs=false&stdin={'true' if stdin else 'false'}"
        return await hijack(
            self.api.socket_path, f"{API}/containers/{container_name(pod_id, container)}/attach?{query}", None, tty
        )

    async def resize(self, pod_id: str, container: str, height: int, width: int) -> None:
        await self.api.request(
            "POST", f"/containers/{container_name(pod_id, container)}/resize", params={"h": height, "w": width}
        )

    async def changes(self) -> AsyncIterator[str]:
        filters = json.dumps({"type": ["container"], "label": [f"{LABEL_MANAGED}=true"]})
        async for event in self.api.stream_lines("GET", "/events", params={"stream": "true", "filters": filters}):
            if (event.get("Action") or event.get("status")) not in _STATE_EVENTS:
                continue  # exec, attach, resize...: the container's state is as it was
            pod_id = ((event.get("Actor") or {}).get("Attributes") or {}).get(LABEL_POD)
            if pod_id:
                yield pod_id
