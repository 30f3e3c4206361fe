"""Logs and interactive streams: the query a log read takes, the two-way stream the
runtime hands out for exec and attach, and the limits the API documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

STDOUT = 1
STDERR = 2

LOG_LIMIT_BYTES = 4096  # the docs: at most 4 KB per getContainerLogs call
LOG_FILE_BYTES = 10 * 1024 * 1024  # the docs: a 10 MB local log per container, rotated
TTY_HEIGHT = (10, 2000)
TTY_WIDTH = (10, 1000)


@dataclass(frozen=True)
class LogQuery:
    """Entries from ``since`` (inclusive) to ``until`` (inclusive), then the last
    ``tail_lines`` of them, then at most ``limit_bytes`` from the start of that."""

    since: datetime | None = None
    until: datetime | None = None
    tail_lines: int | None = None
    limit_bytes: int = LOG_LIMIT_BYTES


class Stream(Protocol):
    """A running process's standard streams, bridged as they flow (never buffered whole)."""

    async def read(self) -> tuple[int, bytes] | None:
        """The next chunk of output with its stream (STDOUT or STDERR); None at the end."""

    async def write(self, data: bytes) -> None:
        """Give the process input; waits while the process does not read (back-pressure)."""

    async def close_stdin(self) -> None:
        """End of input: the process reads EOF."""

    async def close(self) -> None:
        """Let go of the stream (the process goes on unless it is ended separately)."""


@dataclass(frozen=True)
class ExecState:
    running: bool
    exit_code: int | None


def utf8_safe_split(data: bytes) -> int:
    """Where to cut ``data`` so no UTF-8 character is split: a text client (the jdc CLI
    decodes every frame) must not receive half a character. Bytes that are not UTF-8 at
    all are not held back."""
    for i in range(1, min(4, len(data) + 1)):
        b = data[-i]
        if b & 0xC0 == 0x80:  # a continuation byte: look further back
            continue
        if 0xC0 <= b < 0xF8:  # a lead byte: is its sequence complete?
            needed = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return len(data) - i if needed > i else len(data)
        return len(data)
    return len(data)
