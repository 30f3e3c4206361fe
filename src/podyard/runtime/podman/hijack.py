"""Streams over hijacked libpod connections (exec start, attach).

libpod answers ``101 Switching Protocols`` and the socket then carries the process's
streams: raw bytes with a TTY, or frames of an 8-byte header (stream, 0, 0, 0,
big-endian length) and payload without one. h11 speaks the HTTP part of the exchange.

A frame's length is not trusted: libpod frames what conmon hands it, at most 8 KiB
(STDIO_BUF_SIZE) at a time, so a header announcing more than ``MAX_FRAME`` is a broken
stream, closed, and never buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
from typing import Any

import h11

from podyard.domain.streams import STDOUT
from podyard.runtime.protocol import RuntimeFailure

CHUNK = 64 * 1024
MAX_FRAME = 1024 * 1024


class HijackedStream:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tty: bool, early: bytes) -> None:
        self._reader = reader
        self._writer = writer
        self._tty = tty
        self._buffer = bytearray(early)
        self._closed = False

    async def _fill(self, n: int) -> bool:
        while len(self._buffer) < n:
            data = await self._reader.read(CHUNK)
            if not data:
                return False
            self._buffer += data
        return True

    async def read(self) -> tuple[int, bytes] | None:
        if self._tty:
            if not self._buffer:
                data = await self._reader.read(CHUNK)
                if not data:
                    return None
                return STDOUT, data
            data, self._buffer = bytes(self._buffer), bytearray()
            return STDOUT, data
        while True:
            if not await self._fill(8):
                return None
            kind, size = self._buffer[0], struct.unpack(">I", self._buffer[4:8])[0]
            if size > MAX_FRAME:
                self._buffer.clear()
                await self.close()
                raise RuntimeFailure(
                    f"the runtime's stream is broken: a frame header announces {size} bytes, more than {MAX_FRAME}"
                )
            if not await self._fill(8 + size):
                return None
            data = bytes(self._buffer[8 : 8 + size])
            del self._buffer[: 8 + size]
            if size:
                return (kind if kind in (1, 2) else STDOUT), data

    async def write(self, data: bytes) -> None:
        self._writer.write(data)
        await self._writer.drain()

    async def close_stdin(self) -> None:
        if self._writer.can_write_eof():
            self._writer.write_eof()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()


async def hijack(socket_path: str, path: str, body: dict[str, Any] | None, tty: bool) -> HijackedStream:
    """POST ``path`` asking for an upgraded connection; the stream once libpod agrees."""
    reader, writer = await asyncio.open_unix_connection(socket_path, limit=CHUNK * 2)
    conn = h11.Connection(h11.CLIENT)
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [
        ("Host", "podman"),
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(payload))),
        ("Connection", "Upgrade"),
        ("Upgrade", "tcp"),
    ]
    try:
        writer.write(conn.send(h11.Request(method="POST", target=path, headers=headers)))
        writer.write(conn.send(h11.Data(data=payload)) or b"")
        writer.write(conn.send(h11.EndOfMessage()) or b"")
        await writer.drain()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(CHUNK)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.InformationalResponse) and event.status_code == 101:
                early, _ = conn.trailing_data
                return HijackedStream(reader, writer, tty, bytes(early))
            if isinstance(event, h11.Response):
                message = await _body(conn, reader)
                raise RuntimeFailure(message or f"the runtime answered {event.status_code}")
            if isinstance(event, h11.ConnectionClosed):
                raise RuntimeFailure("the runtime closed the connection")
    except BaseException:
        writer.close()
        raise


async def _body(conn: h11.Connection, reader: asyncio.StreamReader) -> str:
    chunks = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(CHUNK))
            continue
        if isinstance(event, h11.Data):
            chunks.append(bytes(event.data))
            continue
        break
    raw = b"".join(chunks)
    try:
        parsed = json.loads(raw)
        return str(parsed.get("message") or parsed.get("cause") or raw.decode())
    except (ValueError, AttributeError):
        return raw.decode(errors="replace").strip()
