"""Accounts: the first one at first start, more from the command line, and lookups by key."""

from __future__ import annotations

import time
from collections.abc import Callable

from cachetools import TTLCache

from podyard.domain.errors import InvalidArgument
from podyard.domain.quotas import QUOTA_TYPES, limit_error
from podyard.domain.records import AccountRecord, NetworkRecord
from podyard.services.context import ServiceContext
from podyard.store import accounts, networks

FIRST_ACCOUNT = "admin"
# Keys podyard makes are 32 characters; a longer one is unknown without a look.
MAX_ACCESS_KEY = 128
# The key cache's two LRUs, measured with tracemalloc: an account kept is ~600 bytes, an
# unknown key ~260 (~350 at 128 characters): at most ~6 MB and ~1.5 MB.
MAX_KNOWN_KEYS = 10_000
MAX_UNKNOWN_KEYS = 4_096


def ensure_network(ctx: ServiceContext, account_id: str) -> NetworkRecord:
    """The account's default VPC, subnet and security group in the served region."""
    region = ctx.region.region_id
    with ctx.db.read() as s:
        found = networks.default_network(s, account_id, region)
    if found:
        return found
    with ctx.db.write() as s:
        accounts.lock_account(s, account_id)  # one default network, whoever else ensures it
        return networks.default_network(s, account_id, region) or networks.create_default_network(
            s, account_id, region, ctx.network_pool, ctx.subnet_prefix
        )


def create_account(ctx: ServiceContext, name: str, *, verified: bool = True) -> tuple[AccountRecord, NetworkRecord]:
    if not name or len(name) > 64:
        raise InvalidArgument("an account name is 1-64 characters")
    taken = InvalidArgument(f"an account named {name!r} exists already")
    # A conflict: only if another process made it past the check (PostgreSQL).
    with ctx.db.write(conflict=taken) as s:
        if accounts.by_name(s, ctx.secret_box, name):
            raise taken
        account = accounts.create_account(s, ctx.secret_box, name, verified=verified)
    return account, ensure_network(ctx, account.account_id)


def first_account(ctx: ServiceContext) -> tuple[AccountRecord, NetworkRecord, bool]:
    """The first account, created on first start; the flag tells whether it is new."""
    with ctx.db.read() as s:
        existing = accounts.by_name(s, ctx.secret_box, FIRST_ACCOUNT)
    if existing:
        return existing, ensure_network(ctx, existing.account_id), False
    try:
        account, network = create_account(ctx, FIRST_ACCOUNT)
    except InvalidArgument:  # a replica sharing the database made it first
        return first_account(ctx)
    return account, network, True


def list_accounts(ctx: ServiceContext) -> list[AccountRecord]:
    with ctx.db.read() as s:
        return accounts.all_accounts(s, ctx.secret_box)


def set_standing(
    ctx: ServiceContext, name: str, *, verified: bool | None = None, in_arrears: bool | None = None
) -> AccountRecord:
    with ctx.db.write() as s:
        account = accounts.set_standing(s, ctx.secret_box, name, verified=verified, in_arrears=in_arrears)
    if account is None:
        raise InvalidArgument(f"no account named {name!r}")
    return account


def set_quota(ctx: ServiceContext, name: str, resource_type: str, limit: int) -> None:
    if resource_type not in QUOTA_TYPES:
        raise InvalidArgument(f"resource type must be one of {', '.join(QUOTA_TYPES)}")
    error = limit_error(limit)
    if error:
        raise InvalidArgument(error)
    with ctx.db.write() as s:
        account = accounts.by_name(s, ctx.secret_box, name)
        if account is None:
            raise InvalidArgument(f"no account named {name!r}")
        accounts.set_quota(s, account.account_id, ctx.region.region_id, resource_type, limit)


class KeyCache:
    """Access key → account, for signature checks, kept briefly: the CLI may change an
    account from another process, and a change shows within ``ttl`` seconds.

    Known keys and unknown ones are kept apart, each in an LRU of its own with the
    same ``ttl``: a flood of made-up keys evicts only other made-up keys (each costs one
    indexed read), never the accounts that sign real requests."""

    def __init__(
        self,
        ctx: ServiceContext,
        ttl: float = 2.0,
        *,
        max_known: int = MAX_KNOWN_KEYS,
        max_unknown: int = MAX_UNKNOWN_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.ttl = ttl
        self._known: TTLCache[str, AccountRecord] = TTLCache(max_known, ttl, timer=clock)
        self._unknown: TTLCache[str, bool] = TTLCache(max_unknown, ttl, timer=clock)

    def lookup(self, access_key: str) -> AccountRecord | None:
        if len(access_key) > MAX_ACCESS_KEY:
            return None  # longer than any key podyard makes: not worth a read, nor a place
        account = self._known.get(access_key)
        if account is not None or access_key in self._unknown:
            return account
        with self.ctx.db.read() as s:
            account = accounts.by_access_key(s, self.ctx.secret_box, access_key)
        if account is None:
            self._unknown[access_key] = True
        else:
            self._known[access_key] = account
        return account

    def clear(self) -> None:
        """Forget every answer: the next lookups read the store (a change shows at once)."""
        self._known.clear()
        self._unknown.clear()

    def sizes(self) -> tuple[int, int]:
        """(known keys, unknown keys) kept: for tests and metrics."""
        return len(self._known), len(self._unknown)
