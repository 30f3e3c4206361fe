"""The JD envelope: ``{requestId, result}`` or ``{requestId, error: {code, status, message}}``.
Errors are rendered here and nowhere else."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from podyard.domain.errors import ApiError

REQUEST_ID_HEADER = "x-jdcloud-request-id"


def _json(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body)


def ok(request_id: str, result: Any) -> Response:
    body: dict[str, Any] = {"requestId": request_id}
    if result is not None:
        body["result"] = result
    return Response(_json(body), media_type="application/json", headers={REQUEST_ID_HEADER: request_id})


def error(request_id: str, e: ApiError) -> Response:
    body = {"requestId": request_id, "error": {"code": e.http_status, "status": e.status, "message": e.message}}
    return Response(
        _json(body), status_code=e.http_status, media_type="application/json", headers={REQUEST_ID_HEADER: request_id}
    )
