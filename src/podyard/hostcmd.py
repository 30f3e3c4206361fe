"""Running the host's own tools (ip, nft, tc, losetup, mkfs, mount, ...), each call
checked. Outside the layers, like faults.py: the network part and the disk part both run
commands through it, each raising its own failure class."""

from __future__ import annotations

import asyncio


class CommandFailure(Exception):
    """A command that failed: the message names the command and carries its stderr."""

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.stderr = stderr
        self.returncode = returncode


async def run(
    *argv: str,
    stdin: str | None = None,
    check: bool = True,
    failure: type[CommandFailure] = CommandFailure,
) -> str:
    """Run a command; its stdout. A failure raises ``failure`` with its stderr, unless
    ``check`` is off (for removals of what may already be gone). A missing program always
    raises ``failure``."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise failure(f"{argv[0]} is not installed on this host (scripts/bootstrap installs it)") from None
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    if check and proc.returncode != 0:
        stderr = err.decode(errors="replace").strip()
        raise failure(f"{' '.join(argv[:4])}: {stderr}", stderr=stderr, returncode=proc.returncode)
    return out.decode()
