"""A pod's /etc/hosts and /etc/resolv.conf, written by podyard and bind-mounted into each
container, as the kubelet does: Podman writes neither for a pod made without a network
(the network part gives pods their interfaces, see podyard.network)."""

from __future__ import annotations

import os
from pathlib import Path

from podyard.runtime.protocol import PodRun

HOST_RESOLV = Path("/etc/resolv.conf")


def hosts(pod: PodRun) -> str:
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", f"{pod.ip}\t{pod.hostname}"]
    lines += [f"{ip}\t{host}" for host, ip in pod.host_aliases]
    return "\n".join(lines) + "\n"


def host_nameservers(resolv: str) -> list[str]:
    """The host's nameservers a pod can use: not its loopback ones (a pod's loopback is its own)."""
    found = []
    for line in resolv.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and not parts[1].startswith(("127.", "::1")):
            found.append(parts[1])
    return found


def resolv_conf(pod: PodRun, host_resolv: str) -> str:
    servers = pod.dns_servers or host_nameservers(host_resolv)
    lines = [f"nameserver {s}" for s in servers]
    if pod.dns_searches:
        lines.append("search " + " ".join(pod.dns_searches))
    if pod.dns_options:
        lines.append("options " + " ".join(pod.dns_options))
    return "\n".join(lines) + "\n"


def write(directory: Path, pod: PodRun) -> tuple[Path, Path]:
    """Write the pod's files; their paths (hosts, resolv.conf)."""
    directory.mkdir(parents=True, exist_ok=True)
    try:
        host_resolv = HOST_RESOLV.read_text()
    except OSError:
        host_resolv = ""
    paths = directory / "hosts", directory / "resolv.conf"
    for path, text in zip(paths, (hosts(pod), resolv_conf(pod, host_resolv)), strict=True):
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.chmod(tmp, 0o644)
        tmp.replace(path)
    return paths
