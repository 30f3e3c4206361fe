"""Running iproute2, nft and tc: the kernel's own tools, each call checked."""

from __future__ import annotations

from podyard import hostcmd


class NetworkFailure(hostcmd.CommandFailure):
    """A failed change to the host network."""


async def run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    """Run a command; its stdout. A failure raises NetworkFailure with its stderr, unless
    ``check`` is off (for removals of what may already be gone)."""
    return await hostcmd.run(*argv, stdin=stdin, check=check, failure=NetworkFailure)


def in_ns(ns: str, *argv: str) -> tuple[str, ...]:
    """argv run inside a named network namespace."""
    return ("ip", "netns", "exec", ns, *argv)


def in_pid(pid: int, *argv: str) -> tuple[str, ...]:
    """argv run inside the network namespace of a process (a pod's infra process)."""
    return ("nsenter", "-t", str(pid), "-n", *argv)
