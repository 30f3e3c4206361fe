"""Handlers of the secret actions. describeSecret(s) return what the docs list: name,
type, createdAt and data (as given, base64)."""

from __future__ import annotations

from typing import Any

from podyard.api.call import Call
from podyard.domain.secrets import SecretRecord
from podyard.domain.specs.actions import EmptyBody
from podyard.domain.specs.secrets import CreateSecretRequest, DescribeSecretsQuery
from podyard.domain.specs.wire import parse_body, parse_query
from podyard.domain.status import iso
from podyard.services import secrets

DEFAULT_PAGE_SIZE = 20


def _view(r: SecretRecord) -> dict[str, Any]:
    return {
        "name": r.name,
        "type": r.secret_type,
        "createdAt": iso(r.created_at),
        "data": {k: r.data.get(k) for k in ("server", "username", "password", "email")},
    }


async def create_secret(call: Call) -> Any:
    req = parse_body(CreateSecretRequest, call.body)
    return {"secretName": await call.run(secrets.create_secret, call.account, call.region, req)}


async def describe_secret(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    return {"secret": _view(await call.run(secrets.describe_secret, call.account, call.region, call.path["name"]))}


async def describe_secrets(call: Call) -> Any:
    q = parse_query(DescribeSecretsQuery, call.query)
    found, total = await call.run(
        secrets.describe_secrets,
        call.account,
        call.region,
        q.name_like(),
        q.page_number or 1,
        q.page_size or DEFAULT_PAGE_SIZE,
    )
    return {"secrets": [_view(r) for r in found], "totalCount": total}


async def delete_secret(call: Call) -> Any:
    parse_query(EmptyBody, call.query)
    await call.run(secrets.delete_secret, call.account, call.region, call.path["name"])
