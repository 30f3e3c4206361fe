"""A small async client of the libpod REST API on a unix socket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from podyard.runtime.protocol import RuntimeFailure, RuntimeUnavailable

API = "/v4.0.0/libpod"


class NotFoundInRuntime(RuntimeFailure):
    def __init__(self, message: str) -> None:
        super().__init__(message, reason="NotFound")


def _message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text.strip() or f"HTTP {r.status_code}"
    if isinstance(body, dict):
        return str(body.get("message") or body.get("cause") or body)
    return str(body)


class LibpodClient:
    def __init__(self, socket_path: str, *, timeout: float = 120.0) -> None:
        self.socket_path = socket_path
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=socket_path),
            base_url="http://podman" + API,
            timeout=httpx.Timeout(timeout, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )

    async def close(self) -> None:
        await self._http.aclose()

    async def request(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200, 201, 204, 304), **kwargs: Any
    ) -> httpx.Response:
        try:
            r = await self._http.request(method, path, **kwargs)
        except httpx.TransportError as e:
            raise RuntimeUnavailable(f"the Podman service is unreachable: {e}") from e
        if r.status_code == 404:
            raise NotFoundInRuntime(_message(r))
        if r.status_code not in ok:
            raise RuntimeFailure(_message(r))
        return r

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.request(method, path, **kwargs)).json()

    async def exists(self, path: str) -> bool:
        try:
            await self.request("GET", path)
        except NotFoundInRuntime:
            return False
        return True

    async def stream_lines(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[dict[str, Any]]:
        """JSON objects of a streaming endpoint (image pull progress, events)."""
        try:
            async with self._http.stream(method, path, timeout=None, **kwargs) as r:
                if r.status_code >= 400:
                    await r.aread()
                    if r.status_code == 404:
                        raise NotFoundInRuntime(_message(r))
                    raise RuntimeFailure(_message(r))
                async for line in r.aiter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as e:
            raise RuntimeUnavailable(f"the Podman service is unreachable: {e}") from e
