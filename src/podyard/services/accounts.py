"""Accounts: the first one at first start, more from the command line, and lookups by key."""

from __future__ import annotations

import time

from podyard.domain.errors import InvalidArgument
from podyard.domain.quotas import QUOTA_TYPES
from podyard.domain.records import AccountRecord, NetworkRecord
from podyard.services.context import ServiceContext
from podyard.store import accounts, networks

FIRST_ACCOUNT = "admin"


def ensure_network(ctx: ServiceContext, account_id: str) -> NetworkRecord:
    """The account's default VPC, subnet and security group in the served region."""
    region = ctx.region.region_id
    with ctx.db.read() as s:
        found = networks.default_network(s, account_id, region)
    if found:
        return found
    with ctx.db.write() as s:
        return networks.default_network(s, account_id, region) or networks.create_default_network(
            s, account_id, region, ctx.network_pool, ctx.subnet_prefix
        )


def create_account(ctx: ServiceContext, name: str, *, verified: bool = True) -> tuple[AccountRecord, NetworkRecord]:
    if not name or len(name) > 64:
        raise InvalidArgument("an account name is 1-64 characters")
    with ctx.db.write() as s:
        if accounts.by_name(s, name):
            raise InvalidArgument(f"an account named {name!r} exists already")
        account = accounts.create_account(s, name, verified=verified)
    return account, ensure_network(ctx, account.account_id)


def first_account(ctx: ServiceContext) -> tuple[AccountRecord, NetworkRecord, bool]:
    """The first account, created on first start; the flag tells whether it is new."""
    with ctx.db.read() as s:
        existing = accounts.by_name(s, FIRST_ACCOUNT)
    if existing:
        return existing, ensure_network(ctx, existing.account_id), False
    account, network = create_account(ctx, FIRST_ACCOUNT)
    return account, network, True


def list_accounts(ctx: ServiceContext) -> list[AccountRecord]:
    with ctx.db.read() as s:
        return accounts.all_accounts(s)


def set_standing(
    ctx: ServiceContext, name: str, *, verified: bool | None = None, in_arrears: bool | None = None
) -> AccountRecord:
    with ctx.db.write() as s:
        account = accounts.set_standing(s, name, verified=verified, in_arrears=in_arrears)
    if account is None:
        raise InvalidArgument(f"no account named {name!r}")
    return account


def set_quota(ctx: ServiceContext, name: str, resource_type: str, limit: int) -> None:
    if resource_type not in QUOTA_TYPES:
        raise InvalidArgument(f"resource type must be one of {', '.join(QUOTA_TYPES)}")
    if limit < 0:
        raise InvalidArgument("a quota limit is 0 or more")
    with ctx.db.write() as s:
        account = accounts.by_name(s, name)
        if account is None:
            raise InvalidArgument(f"no account named {name!r}")
        accounts.set_quota(s, account.account_id, ctx.region.region_id, resource_type, limit)


class KeyCache:
    """Access key → account, for signature checks, kept briefly: the CLI may change an
    account from another process, and a change shows within ``ttl`` seconds."""

    def __init__(self, ctx: ServiceContext, ttl: float = 2.0) -> None:
        self.ctx = ctx
        self.ttl = ttl
        self._cache: dict[str, tuple[float, AccountRecord | None]] = {}

    def lookup(self, access_key: str) -> AccountRecord | None:
        now = time.monotonic()
        hit = self._cache.get(access_key)
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        with self.ctx.db.read() as s:
            account = accounts.by_access_key(s, access_key)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[access_key] = (now, account)
        return account
