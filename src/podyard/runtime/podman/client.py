"""A small async client of the libpod REST API on a unix socket (aiohttp: podyard sends
several requests for every pod it makes, and a client's own cost is podyard's)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from podyard.runtime.protocol import RuntimeFailure, RuntimeUnavailable

API = "/v4.0.0/libpod"
BASE = "http://podman" + API
TIMEOUT = 120.0
_UNREACHABLE = (aiohttp.ClientError, asyncio.TimeoutError)


class NotFoundInRuntime(RuntimeFailure):
    def __init__(self, message: str) -> None:
        super().__init__(message, reason="NotFound")


def _message(status: int, body: bytes) -> str:
    text = body.decode(errors="replace").strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        return text or f"HTTP {status}"
    if isinstance(parsed, dict):
        return str(parsed.get("message") or parsed.get("cause") or parsed)
    return str(parsed)


class LibpodClient:
    def __init__(self, socket_path: str, *, timeout: float = TIMEOUT) -> None:
        self.socket_path = socket_path
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=5.0)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on the loop that uses it
            connector = aiohttp.UnixConnector(path=self.socket_path, limit=64)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        ok: tuple[int, ...] = (200, 201, 204, 304),
        timeout: float | None = None,
        **kwargs: Any,
    ) -> bytes:
        """The body of a call Podman answered with one of ``ok``."""
        if timeout is not None:
            kwargs["timeout"] = aiohttp.ClientTimeout(total=timeout, sock_connect=5.0)
        try:
            async with self._http().request(method, BASE + path, **kwargs) as r:
                body = await r.read()
                status = r.status
        except _UNREACHABLE as e:
            raise RuntimeUnavailable(f"the Podman service is unreachable: {e!r}") from e
        if status == 404:
            raise NotFoundInRuntime(_message(status, body))
        if status not in ok:
            raise RuntimeFailure(_message(status, body))
        return body

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return json.loads(await self.request(method, path, **kwargs))

    async def exists(self, path: str) -> bool:
        try:
            await self.request("GET", path)
        except NotFoundInRuntime:
            return False
        return True

    async def stream_lines(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """JSON objects of a streaming endpoint (image pull progress, events)."""
        endless = aiohttp.ClientTimeout(total=None, sock_connect=5.0)
        try:
            async with self._http().request(method, BASE + path, timeout=endless, **kwargs) as r:
                if r.status >= 400:
                    body = await r.read()
                    if r.status == 404:
                        raise NotFoundInRuntime(_message(r.status, body))
                    raise RuntimeFailure(_message(r.status, body))
                async for line in r.content:
                    if line.strip():
                        yield json.loads(line)
        except _UNREACHABLE as e:
            raise RuntimeUnavailable(f"the Podman service is unreachable: {e!r}") from e
