"""Decoding request parameters: GET queries flattened as the SDK flattens them
(``filters.1.name=phase&filters.1.values.1=running``), and JSON bodies."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from podyard.domain.errors import InvalidArgument

MAX_QUERY_FIELDS = 2000


def decode_query(raw: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS, errors="strict")
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"the query string cannot be decoded: {e}") from None
    tree: dict[Any, Any] = {}
    for key, value in pairs:
        parts: list[Any] = [int(p) if p.isdigit() else p for p in key.split(".")]
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
    return body
