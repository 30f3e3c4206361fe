"""Registry secrets: create, describe, list, delete; and the check that a container's
secret exists and is for its image's registry."""

from __future__ import annotations

from typing import Any

from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from podyard.domain.images import parse_image
from podyard.domain.quotas import ResourceType, check_quota
from podyard.domain.records import AccountRecord
from podyard.domain.secrets import SECRET_TYPE, SecretRecord, registry_host
from podyard.domain.specs.secrets import CreateSecretRequest
from podyard.services.context import ServiceContext
from podyard.services.quotas import limit_of
from podyard.store import accounts, secrets


def create_secret(ctx: ServiceContext, account: AccountRecord, region: str, req: CreateSecretRequest) -> str:
    ctx.check_region(region)
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        if secrets.exists(s, account.account_id, region, req.name):
            raise AlreadyExists(f"name: a secret named {req.name!r} exists already in {region}")
        overrides = accounts.quota_overrides(s, account.account_id, region)
        check_quota(
            ResourceType.SECRET,
            limit_of(ctx, overrides, ResourceType.SECRET),
            secrets.count(s, account.account_id, region),
            1,
        )
        record = SecretRecord(name=req.name, secret_type=SECRET_TYPE, created_at=ctx.now(), data=dict(req.data))
        secrets.add(s, ctx.secret_box, account.account_id, region, record)
    return req.name


def describe_secret(ctx: ServiceContext, account: AccountRecord, region: str, name: str) -> SecretRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = secrets.get(s, ctx.secret_box, account.account_id, region, name)
    if found is None:
        raise NotFound(f"name: secret {name} not found")
    return found


def describe_secrets(
    ctx: ServiceContext, account: AccountRecord, region: str, name_like: str | None, number: int, size: int
) -> tuple[list[SecretRecord], int]:
    ctx.check_region(region)
    with ctx.db.read() as s:
        return secrets.page(s, ctx.secret_box, account.account_id, region, name_like, number, size)


def delete_secret(ctx: ServiceContext, account: AccountRecord, region: str, name: str) -> None:
    """The docs are silent on a secret still in use: podyard refuses, naming the pods.
    Under the account's lock, as createPods checks its secrets under it: a pod is never
    created with a secret deleted meanwhile (a row lock on PostgreSQL)."""
    ctx.check_region(region)
    with ctx.db.write() as s:
        accounts.lock_account(s, account.account_id)
        if not secrets.exists(s, account.account_id, region, name):
            raise NotFound(f"name: secret {name} not found")
        using = secrets.users(s, account.account_id, region, name)
        if using:
            raise FailedPrecondition(
                f"secret {name} is used by pod(s) {', '.join(using)}: delete them, or rebuild their containers "
                "without it, first"
            )
        secrets.remove(s, account.account_id, region, name)


def check_container_secrets(
    s: Any, ctx: ServiceContext, account_id: str, region: str, containers: list[Any], where: str
) -> None:
    """Each container's secret exists and is for the registry its image comes from."""
    for i, c in enumerate(containers):
        if not c.secret:
            continue
        found = secrets.get(s, ctx.secret_box, account_id, region, c.secret)
        if found is None:
            raise NotFound(f"{where}[{i}].secret: secret {c.secret} not found")
        server = found.auth().server
        image_registry = registry_host(parse_image(c.image).registry)
        if server != image_registry:
            raise InvalidArgument(
                f"{where}[{i}].secret: secret {c.secret} is for the registry {server}, "
                f"but the image {c.image} comes from {image_registry}"
            )
