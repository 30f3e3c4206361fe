"""Decoding request parameters: GET queries flattened as the SDK flattens them
(``filters.1.name=phase&filters.1.values.1=running``), and JSON bodies.

No parameter may hold NUL: no text of the API has a use for it, and neither
PostgreSQL's text nor a process's arguments and environment can hold one.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from podyard.domain.errors import InvalidArgument

MAX_QUERY_FIELDS = 2000
# The methods whose parameters come in a JSON body; every other takes them in the query.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def decode_query(raw: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS, errors="strict")
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"the query string cannot be decoded: {e}") from None
    tree: dict[Any, Any] = {}
    for key, value in pairs:
        if "\x00" in key or "\x00" in value:
            raise InvalidArgument(f"query parameter {key!r} holds NUL, which no parameter may")
        # An index is ASCII digits, as the SDK writes it: "³" and "①" are digits to
        # str.isdigit() and not to int(); here they are names.
        parts: list[Any] = [int(p) if p.isascii() and p.isdigit() else p for p in key.split(".")]
        if any(p == "" or (isinstance(p, int) and p < 1) for p in parts) or isinstance(parts[0], int):
            raise InvalidArgument(f"query parameter {key!r} is malformed (list indexes start at 1)")
        node = tree
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise InvalidArgument(f"query parameter {key!r} conflicts with another parameter")
        if parts[-1] in node:
            raise InvalidArgument(f"query parameter {key!r} is given more than once")
        node[parts[-1]] = value
    return _listify(tree)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    keys = list(node)
    if keys and all(isinstance(k, int) for k in keys):
        return [_listify(node[k]) for k in sorted(keys)]
    if any(isinstance(k, int) for k in keys):
        raise InvalidArgument("a query parameter mixes list indexes and names")
    return {k: _listify(v) for k, v in node.items()}


def decode_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"the request body is not valid JSON: {e}") from None
    except RecursionError:
        raise InvalidArgument("the request body nests too deeply") from None
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    _refuse_nul(body)
    return body


def _refuse_nul(body: dict[str, Any]) -> None:
    """Walk the body without recursion (json.loads nests as deep as the stack allows)."""
    todo: list[tuple[Any, str]] = [(body, "")]
    while todo:
        value, where = todo.pop()
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidArgument(f"{where or 'a key of the request body'} holds NUL, which no parameter may")
        elif isinstance(value, dict):
            for key, item in value.items():
                todo += [(key, f"a key of {where}" if where else ""), (item, f"{where}.{key}" if where else key)]
        elif isinstance(value, list):
            todo += [(item, f"{where}[{i}]") for i, item in enumerate(value)]
