"""Handlers of logs, exec, attach and TTY resize; exec and attach speak WebSocket."""

from __future__ import annotations

from typing import Any

from starlette.websockets import WebSocket

from podyard.api.bridge import bridge
from podyard.api.call import Call
from podyard.domain.errors import InvalidArgument
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.streams import ExecCreateRequest, ExecIdQuery, GetContainerLogsQuery, ResizeTtyRequest
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.services import streams


def _where(call: Call) -> tuple[Any, str, str, str]:
    return call.account, call.region, call.path["podId"], call.path["containerName"]


async def get_container_logs(call: Call) -> Any:
    query = parse_query(GetContainerLogsQuery, call.query).log_query(call.ctx.now())
    content = await streams.get_container_logs(call.ctx, *_where(call), query)
    return {"logs": {"content": content}}


async def exec_create(call: Call) -> Any:
    req = parse_body(ExecCreateRequest, call.body)
    exec_id = await streams.exec_create(call.ctx, *_where(call), req.command, bool(req.tty))
    return {"execId": exec_id}


async def exec_get_exit_code(call: Call) -> Any:
    q = parse_query(ExecIdQuery, call.query)
    return {"execCode": await streams.exec_exit_code(call.ctx, *_where(call), q.exec_id)}


async def resize_tty(call: Call) -> Any:
    req = parse_body(ResizeTtyRequest, call.body)
    if req.container_id not in (None, call.path["containerName"]):
        raise InvalidArgument("containerId in the body differs from the container of the path")
    await streams.resize_tty(call.ctx, *_where(call), req.height, req.width, req.exec_id)


async def exec_start(call: Call, ws: WebSocket) -> None:
    q = parse_query(ExecIdQuery, call.query)
    session, stream = await streams.exec_start(call.ctx, *_where(call), q.exec_id)
    finished = False
    try:
        await ws.accept()
        finished = await bridge(
            ws, stream, tty=session.tty, stdin=True, idle=call.ctx.sessions.limits.idle_seconds, closing=call.closing
        )
    finally:
        await streams.session_ended(call.ctx, session, abandoned=not finished)


async def attach(call: Call, ws: WebSocket) -> None:
    parse_query(EmptyBody, call.query)
    session, stream = await streams.attach(call.ctx, *_where(call))
    try:
        await ws.accept()
        await bridge(
            ws,
            stream,
            tty=session.tty,
            stdin=session.tty,
            idle=call.ctx.sessions.limits.idle_seconds,
            closing=call.closing,
        )
    finally:
        await streams.session_ended(call.ctx, session, abandoned=False)
