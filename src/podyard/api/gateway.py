"""The ASGI entry of the API: a chain of small steps for every HTTP request.

request id → bounded body → signature (which names the service) → route →
decode parameters → handler → JD envelope. Only ``GET /openapi.json`` (the documents of
the wire, api/openapi.py) is answered without a signature. Any ApiError becomes its envelope;
anything else becomes a 500 that names the request id and reveals nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from podyard.api import envelope, openapi, routes
from podyard.api.auth import Authenticator, Caller
from podyard.api.bridge import send_error
from podyard.api.call import Call
from podyard.api.params import BODY_METHODS, decode_body, decode_query
from podyard.domain.errors import (
    ApiError,
    Internal,
    InvalidArgument,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    Unauthenticated,
    Unavailable,
)
from podyard.domain.ids import new_request_id
from podyard.services.context import ServiceContext

log = logging.getLogger(__name__)


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the request body exceeds {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _headers(scope: Scope) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), []).append(value.decode("latin-1"))
    return headers


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"the request {what} is not UTF-8") from None


def check_scope_region(caller: Caller, path_params: dict[str, str]) -> None:
    """The region a request is signed for is the region it acts in: a signature made for
    one region is not good in another (as the date of the scope must be the request's)."""
    region = path_params.get("regionId")
    if region is not None and region != caller.region:
        raise Unauthenticated(
            f"the credential scope's region {caller.region!r} is not the path's region {region!r}: "
            "sign the request for the region it acts in"
        )


class Gateway:
    def __init__(self, ctx: ServiceContext, authenticator: Authenticator, max_body: int) -> None:
        self.ctx = ctx
        self.auth = authenticator
        self.max_body = max_body
        self.closing = asyncio.Event()  # podyard shuts down: refuse new work, end streams

    async def websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """An upgrade request: verified and routed like any request, then handed to the
        stream's handler. Refusals before the upgrade answer with the JD envelope."""
        request_id = new_request_id()
        ws = WebSocket(scope, receive, send)
        try:
            self._check_open()
            raw_path = _text(scope.get("raw_path") or scope["path"].encode(), "path")
            raw_query = _text(scope.get("query_string", b""), "query")
            caller = self.auth.authenticate("GET", raw_path, raw_query, _headers(scope), b"")
            route, path_params, _ = routes.match(caller.service, "GET", scope["path"])
            if route is None or not route.websocket:
                raise NotFound(f"no {caller.service} API takes a WebSocket at {scope['path']}")
            check_scope_region(caller, path_params)
            call = Call(request_id, caller, path_params, decode_query(raw_query), {}, self.ctx, self.closing)
            await route.handler(call, ws)
        except ApiError as e:
            await self._refuse(ws, scope, send, request_id, e)
        except Exception:
            log.exception("stream %s failed", request_id)
            await self._refuse(ws, scope, send, request_id, Internal(f"internal error (request {request_id})"))

    def _check_open(self) -> None:
        if self.closing.is_set():
            raise Unavailable("podyard is shutting down; retry in a moment")

    @staticmethod
    async def _refuse(ws: WebSocket, scope: Scope, send: Send, request_id: str, e: ApiError) -> None:
        if ws.client_state == WebSocketState.CONNECTING:
            if "websocket.http.response" in scope.get("extensions", {}):
                response = envelope.error(request_id, e)
                await send(
                    {"type": "websocket.http.response.start", "status": e.http_status, "headers": response.raw_headers}
                )
                await send({"type": "websocket.http.response.body", "body": response.body})
            else:
                await ws.close(1008, e.message[:120])
        elif ws.client_state == WebSocketState.CONNECTED:
            await send_error(ws, e.message)
            with contextlib.suppress(Exception):
                await ws.close(1011 if e.http_status >= 500 else 1008)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        try:
            response = await self._handle(scope, receive, request_id)
        except ApiError as e:
            response = envelope.error(request_id, e)
        except Exception:
            log.exception("request %s failed", request_id)
            response = envelope.error(request_id, Internal(f"internal error (request {request_id})"))
        await response(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, request_id: str) -> Any:
        self._check_open()
        method = scope["method"]
        body = await read_body(receive, self.max_body)
        if method == "GET" and scope["path"] == openapi.PATH:
            service = openapi.service_of(_text(scope.get("query_string", b""), "query"))
            headers = {envelope.REQUEST_ID_HEADER: request_id}
            return Response(openapi.document_bytes(service), media_type="application/json", headers=headers)
        raw_path = _text(scope.get("raw_path") or scope["path"].encode(), "path")
        raw_query = _text(scope.get("query_string", b""), "query")
        caller = self.auth.authenticate(method, raw_path, raw_query, _headers(scope), body)
        route, path_params, allowed = routes.match(caller.service, method, scope["path"])
        if route is None:
            if allowed:
                raise MethodNotAllowed(f"{method} is not allowed here; use {', '.join(sorted(set(allowed)))}")
            if caller.service not in routes.SERVICES:
                raise NotFound(f"the {caller.service} service is not served here")
            raise NotFound(f"no {caller.service} API answers {method} {scope['path']}")
        check_scope_region(caller, path_params)
        if route.websocket:
            raise InvalidArgument(f"{route.action} streams over a WebSocket: send an Upgrade: websocket request")
        if method in BODY_METHODS:
            if raw_query:
                raise InvalidArgument(f"{route.action} takes its parameters in the JSON body, not the query")
            query, params = {}, decode_body(body)
            for name, value in path_params.items():  # the SDK repeats path parameters in the body
                if name in params and params.pop(name) not in (value, None):
                    raise InvalidArgument(f"{name} in the body differs from the path")
        else:
            if body.strip():
                raise InvalidArgument(f"{route.action} takes no request body")
            query, params = decode_query(raw_query), {}
        call = Call(request_id=request_id, caller=caller, path=path_params, query=query, body=params, ctx=self.ctx)
        return envelope.ok(request_id, await route.handler(call))
