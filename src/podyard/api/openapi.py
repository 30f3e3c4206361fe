"""The OpenAPI 3.1 documents of the wire, generated from the route table (api/routes.py)
and the request models (domain/specs/), and served unauthenticated at /openapi.json.

Every served action is in its service's document with its path, its query parameters and its JSON body. An
action's model is the WireModel its handler parses with (``parse_query(DescribePodsQuery,
...)``); the method says where it is read from, as the gateway reads it: the body for
POST, PUT and PATCH, the query otherwise. A query's lists are spelled as the SDK flattens
them (``filters.1.name``, ``filters.1.values.1``), the first LIST_ITEMS entries of each.
Every integer carries its width (``format``), so a client, and a fuzzer, knows its edges.
Several services share the endpoint, and their paths may meet (``GET
/regions/{regionId}/quotas`` is the pod's and the disk's): each has its own document,
``/openapi.json?service=vpc`` (the pod service's without one). ``x-jdcloud-service``
names the service a request must name in its signature's credential scope.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Iterator
from typing import Any, cast

import orjson
from pydantic.json_schema import models_json_schema

from podyard.api import routes
from podyard.api.params import BODY_METHODS, decode_query
from podyard.domain.errors import InvalidArgument, NotFound
from podyard.domain.specs.wire import INTEGER_MAX, WireModel

PATH = "/openapi.json"
DEFAULT_SERVICE = "pod"
LIST_ITEMS = 2
REF = "#/components/schemas/"
SERVICE = "x-jdcloud-service"

_ENVELOPE = {
    "type": "object",
    "required": ["requestId"],
    "properties": {"requestId": {"type": "string"}, "result": {}},
}
_ERROR = {
    "type": "object",
    "required": ["requestId", "error"],
    "properties": {
        "requestId": {"type": "string"},
        "error": {
            "type": "object",
            "required": ["code", "status", "message"],
            "properties": {"code": {"type": "integer"}, "status": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}
_SIGNATURE = {
    "type": "apiKey",
    "in": "header",
    "name": "Authorization",
    "description": "JDCLOUD3-HMAC-SHA256, as the official SDKs sign (jdcloud_sdk/core/signer.py); the "
    "service in the credential scope (date/region/SERVICE/jdcloud3_request) is the operation's "
    "x-jdcloud-service.",
}


def request_model(route: routes.Route) -> type[WireModel]:
    """The model the route's handler parses its parameters with: the one WireModel among
    the globals its code names."""
    handler = cast(types.FunctionType, route.handler)
    named = (handler.__globals__.get(name) for name in handler.__code__.co_names)
    found = {m for m in named if isinstance(m, type) and issubclass(m, WireModel)}
    if len(found) != 1:
        names = ", ".join(sorted(m.__name__ for m in found)) or "none"
        raise RuntimeError(f"{route.action}: its handler must parse with exactly one request model, not {names}")
    return found.pop()


def document(service: str = DEFAULT_SERVICE) -> dict[str, Any]:
    """The document of one service's served actions."""
    served = [route for route in routes.SERVICES[service] if route.served]
    models = {request_model(route) for route in served}
    keys, schemas = models_json_schema(
        [(m, "validation") for m in sorted(models, key=lambda m: m.__name__)],
        by_alias=True,
        ref_template=REF + "{model}",
    )
    defs: dict[str, Any] = _with_integer_formats(schemas.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for route in served:
        model_ref = keys[(request_model(route), "validation")]
        item = paths.setdefault("/v1" + route.template, {})
        method = route.method.lower()
        if method in item:
            raise RuntimeError(f"{route.method} {route.template} is routed twice ({route.action})")
        item[method] = _operation(service, route, model_ref, defs)
    others = ", ".join(f"{PATH}?service={s}" for s in routes.SERVICES if s != service)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"podyard: the JD Cloud {service} service",
            "version": "v1",
            "description": f"The {service} service's actions as podyard serves them; sign for service "
            f"{service!r}. The services that share this endpoint each have a document: {others}. "
            "Actions of the SDKs that podyard does not serve answer 501 and are not listed.",
        },
        SERVICE: service,
        "paths": paths,
        "components": {
            "schemas": {**defs, "Envelope": _ENVELOPE, "Error": _ERROR},
            "securitySchemes": {"jdcloud": _SIGNATURE},
        },
        "security": [{"jdcloud": []}],
    }


@functools.cache
def document_bytes(service: str) -> bytes:
    return orjson.dumps(document(service))


def service_of(raw_query: str) -> str:
    """``/openapi.json?service=vpc``: the service a document is asked for (pod if none)."""
    query = decode_query(raw_query)
    service = query.pop("service", DEFAULT_SERVICE)
    if query:
        raise InvalidArgument(f"{PATH} takes one parameter, service; not {', '.join(map(str, query))}")
    if not isinstance(service, str) or service not in routes.SERVICES:
        raise NotFound(f"service: {service!r} is not served here; the services are {', '.join(routes.SERVICES)}")
    return service


def _operation(service: str, route: routes.Route, model_ref: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [  # each as the route matches it
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": f"^{regex}$"}}
        for name, regex in re.findall(r"\(\?P<(\w+)>([^)]*)\)", route.pattern.pattern)
    ]
    op: dict[str, Any] = {
        "operationId": f"{service}.{route.action}",
        "tags": [service],
        SERVICE: service,
        "parameters": params,
        "responses": {
            "200": _json("the action's result in the JD envelope", "Envelope"),
            "default": _json("a JD error", "Error"),
        },
    }
    model = _deref(model_ref, defs)
    if route.method in BODY_METHODS:
        op["requestBody"] = {
            "required": bool(model.get("required")),
            "content": {"application/json": {"schema": model_ref}},
        }
    else:
        params.extend(_query_parameters(model, defs))
    if route.websocket:
        op["description"] = "A WebSocket stream: the request upgrades (Upgrade: websocket)."
        op["x-websocket"] = True
    return op


def _with_integer_formats(node: Any) -> Any:
    """Every integer with its width: int32 where its bounds fit the API's Integer, int64
    (the store's width) where they do not."""
    if isinstance(node, list):
        return [_with_integer_formats(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _with_integer_formats(v) for k, v in node.items()}
    if out.get("type") == "integer" and "format" not in out:
        low, high = out.get("minimum"), out.get("maximum")
        int32 = low is not None and high is not None and low >= -INTEGER_MAX - 1 and high <= INTEGER_MAX
        out["format"] = "int32" if int32 else "int64"
    return out


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF + schema}}}}


def _query_parameters(model: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(model.get("required", ()))
    return [
        {"name": flat, "in": "query", "required": flat in required, "schema": leaf}
        for name, prop in model.get("properties", {}).items()
        for flat, leaf in _flatten(name, prop, defs)
    ]


def _flatten(name: str, schema: dict[str, Any], defs: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A query parameter's schema as the SDK's names: ``tags.1.values.2``."""
    s = _non_null(_deref(schema, defs), defs)
    if s.get("type") == "array":
        for i in range(1, LIST_ITEMS + 1):
            yield from _flatten(f"{name}.{i}", s.get("items", {}), defs)
    elif s.get("type") == "object" and "properties" in s:
        for prop, sub in s["properties"].items():
            yield from _flatten(f"{name}.{prop}", sub, defs)
    else:
        leaf = {k: v for k, v in s.items() if k not in ("default", "title")}
        yield name, leaf or {"type": "string"}


def _deref(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF):
        return cast(dict[str, Any], defs[ref[len(REF) :]])
    return schema


def _non_null(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` as X: a query parameter left out is the null."""
    branches = schema.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            rest = {k: v for k, v in schema.items() if k != "anyOf"}
            return {**rest, **_deref(kept[0], defs)}
    return schema
