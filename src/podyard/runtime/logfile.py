"""Container logs in the CRI (k8s-file) format that conmon writes, rotated at 10 MB.

Every line is ``TIMESTAMP STREAM TAG CONTENT``; TAG ``F`` ends a line, ``P`` is part
of a longer one. conmon rotates by renaming a fresh file over the full one, which
would drop the old content; the keeper holds a hard link to the current file, so the
replaced one survives as ``NAME.log.1``: every container keeps its last 10-20 MB.

Reads never load a whole file: a tail or a start time is found by reading blocks
backwards from the end, then the answer is read forwards up to the byte limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from podyard.domain.streams import LogQuery

log = logging.getLogger(__name__)

BLOCK = 64 * 1024


@dataclass(frozen=True)
class Entry:
    time: datetime
    full: bool
    content: bytes


def parse(line: bytes) -> Entry | None:
    parts = line.rstrip(b"\n").split(b" ", 3)
    if len(parts) < 3:
        return None
    try:
        time = datetime.fromisoformat(parts[0].decode())
    except ValueError:
        return None
    return Entry(time=time, full=parts[2] == b"F", content=parts[3] if len(parts) > 3 else b"")


def files_of(current: Path) -> list[Path]:
    """The container's log files, oldest first."""
    rotated = current.with_name(current.name + ".1")
    return [p for p in (rotated, current) if p.exists()]


def _backwards(path: Path) -> Iterator[tuple[int, bytes]]:
    """(offset, line) from the last line to the first, a block at a time."""
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        tail = b""
        while end > 0:
            start = max(0, end - BLOCK)
            f.seek(start)
            chunk = f.read(end - start) + tail
            end = start
            lines = chunk.split(b"\n")
            tail = lines[0]  # may continue in the previous block
            offset = start + len(tail) + 1
            found = []
            for line in lines[1:]:
                found.append((offset, line))
                offset += len(line) + 1
            for item in reversed(found):
                if item[1]:
                    yield item
        if tail:
            yield 0, tail


def _start(files: list[Path], query: LogQuery) -> tuple[int, int]:
    """Where the selected entries begin: (file index, byte offset)."""
    start = (len(files), 0)  # nothing selected yet
    counted = 0
    for index in range(len(files) - 1, -1, -1):
        for offset, line in _backwards(files[index]):
            entry = parse(line)
            if entry is None:
                continue
            if query.since is not None and entry.time < query.since:
                return start
            if query.until is not None and entry.time > query.until:
                continue
            if query.tail_lines is not None and entry.full:
                if counted == query.tail_lines:
                    return start
                counted += 1
            start = (index, offset)
    return start


def read(current: Path, query: LogQuery) -> bytes:
    if query.tail_lines == 0:
        return b""
    files = files_of(current)
    if query.tail_lines is None and query.since is None:
        index, offset = 0, 0
    else:
        index, offset = _start(files, query)
    out = bytearray()
    for i in range(index, len(files)):
        with files[i].open("rb") as f:
            f.seek(offset if i == index else 0)
            for line in f:
                entry = parse(line)
                if entry is None or (query.since is not None and entry.time < query.since):
                    continue
                if query.until is not None and entry.time > query.until:
                    return bytes(out[: query.limit_bytes])
                out += entry.content + (b"\n" if entry.full else b"")
                if len(out) >= query.limit_bytes:
                    return bytes(out[: query.limit_bytes])
    return bytes(out)


class LogKeeper:
    """Keeps the file conmon replaces at each rotation, as ``NAME.log.1``."""

    def __init__(self, root: Path, interval: float = 1.0) -> None:
        self.root = root
        self.interval = interval

    @staticmethod
    def link_of(current: Path) -> Path:
        return current.with_name(f".{current.name}.link")

    def prepare(self, current: Path) -> None:
        """Make a container's log file and its keeping link before conmon writes to it."""
        current.parent.mkdir(parents=True, exist_ok=True)
        current.touch(mode=0o600, exist_ok=True)
        self.keep_one(current)

    def keep(self) -> None:
        for current in self.root.glob("*/*.log"):
            self.keep_one(current)

    def keep_one(self, current: Path) -> None:
        link = self.link_of(current)
        try:
            ino = current.stat().st_ino
            if link.exists() and link.stat().st_ino != ino:
                os.replace(link, current.with_name(current.name + ".1"))
            if not link.exists():
                os.link(current, link)
        except FileNotFoundError:
            return  # the pod went away meanwhile

    async def run(self) -> None:
        while True:
            with contextlib.suppress(OSError):
                await asyncio.to_thread(self.keep)
            await asyncio.sleep(self.interval)
