"""The WebSocket side of exec and attach: frames between a client and a runtime stream.

The protocol is the one the ``jdc`` CLI speaks (see docs/streams.md):
- client → podyard: binary (or text) frames of raw input bytes; without a TTY, a
  frame holding only 0x04 ends the input (jdc sends it after piped stdin); empty
  frames are ignored.
- podyard → client: stdout as binary frames (cut on UTF-8 character boundaries, as
  jdc decodes each frame); stderr as text frames ``{"streamType": "stderr", "output": ...}``;
  errors as ``{"type": "error", "message": ...}`` and then a close.
- podyard closes the WebSocket when the process ends, or after ``idle`` seconds
  without traffic either way.

Frames are relayed one at a time, each awaited: a slow reader slows the process's
output (back-pressure), and nothing is buffered beyond one chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from starlette.websockets import WebSocket

from podyard.domain.streams import STDERR, Stream, utf8_safe_split

EOT = b"\x04"


async def send_error(ws: WebSocket, message: str) -> None:
    with contextlib.suppress(Exception):
        await ws.send_text(json.dumps({"type": "error", "message": message}))


CLOSING = "podyard is shutting down: this session is closed (an exec's process is ended); reconnect when it is back"


async def bridge(ws: WebSocket, stream: Stream, *, tty: bool, stdin: bool, idle: float, closing: asyncio.Event) -> bool:
    """Relay until the process's output ends (True), or the client leaves or idles, or
    podyard shuts down (False)."""
    loop = asyncio.get_running_loop()
    last = loop.time()

    async def outbound() -> None:
        nonlocal last
        held = b""
        while (item := await stream.read()) is not None:
            kind, data = item
            last = loop.time()
            if kind == STDERR:
                await ws.send_text(json.dumps({"streamType": "stderr", "output": data.decode("utf-8", "replace")}))
                continue
            data = held + data
            cut = utf8_safe_split(data)
            held = data[cut:]
            if cut:
                await ws.send_bytes(data[:cut])
        if held:
            await ws.send_bytes(held)

    async def inbound() -> None:
        nonlocal last
        open_ = stdin
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                data = (message.get("text") or "").encode()
            if not data:
                continue
            last = loop.time()
            if not open_:
                continue
            if not tty and data == EOT:
                await stream.close_stdin()
                open_ = False
                continue
            await stream.write(data)

    async def watchdog() -> None:
        while loop.time() - last < idle:
            await asyncio.sleep(min(1.0, idle))

    out = asyncio.create_task(outbound())
    inn = asyncio.create_task(inbound())
    dog = asyncio.create_task(watchdog())
    end = asyncio.create_task(closing.wait())
    try:
        done, _ = await asyncio.wait({out, inn, dog, end}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (out, inn, dog, end):
            t.cancel()
        await asyncio.gather(out, inn, dog, end, return_exceptions=True)
        await stream.close()
    if out in done and not out.cancelled() and out.exception() is None:
        with contextlib.suppress(Exception):
            await ws.close(1000)
        return True
    if end in done and out not in done:
        await send_error(ws, CLOSING)
        with contextlib.suppress(Exception):
            await ws.close(1001)  # going away
        return False
    if dog in done:
        await send_error(ws, f"the session was idle for {idle:.0f} seconds and is closed")
    elif out in done and out.exception() is not None:
        await send_error(ws, f"the stream failed: {out.exception()}")
    with contextlib.suppress(Exception):
        await ws.close(1000)
    return False
