"""Running iproute2, nft and tc: the kernel's own tools, each call checked."""

from __future__ import annotations

import asyncio


class NetworkFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def run(*argv: str, stdin: str | None = None, check: bool = True) -> str:
    """Run a command; its stdout. A failure raises NetworkFailure with its stderr, unless
    ``check`` is off (for removals of what may already be gone)."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if check and proc.returncode != 0:
        raise NetworkFailure(f"{' '.join(argv[:4])}: {err.decode(errors='replace').strip()}")
    return out.decode()


def in_ns(ns: str, *argv: str) -> tuple[str, ...]:
    """argv run inside a named network namespace."""
    return ("ip", "netns", "exec", ns, *argv)


def in_pid(pid: int, *argv: str) -> tuple[str, ...]:
    """argv run inside the network namespace of a process (a pod's infra process)."""
    return ("nsenter", "-t", str(pid), "-n", *argv)
