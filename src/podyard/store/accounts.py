"""Accounts, their keys and standing, and their quota overrides.

The secret key is sealed at rest like registry secrets (``store/crypto.SecretBox``),
bound to the account id and access key, and kept as base64; the access key stays clear,
for lookups."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podyard.domain.ids import new_id, new_secret
from podyard.domain.records import AccountRecord
from podyard.store.crypto import SecretBox
from podyard.store.tables import Account, QuotaLimit


def bound_to(account_id: str, access_key: str) -> str:
    """What a sealed secret key is bound to (migration 0006 writes it out)."""
    return f"account/{account_id}/{access_key}"


def seal(box: SecretBox, secret_key: str, account_id: str, access_key: str) -> str:
    return base64.b64encode(box.seal(secret_key.encode(), bound_to(account_id, access_key))).decode()


def _record(box: SecretBox, a: Account) -> AccountRecord:
    return AccountRecord(
        account_id=a.account_id,
        name=a.name,
        access_key=a.access_key,
        secret_key=box.open(base64.b64decode(a.sealed_secret_key), bound_to(a.account_id, a.access_key)).decode(),
        verified=a.verified,
        in_arrears=a.in_arrears,
    )


def create_account(session: Session, box: SecretBox, name: str, *, verified: bool = True) -> AccountRecord:
    account_id, access_key = new_id("acct"), new_secret(32).upper()
    account = Account(
        account_id=account_id,
        name=name,
        access_key=access_key,
        sealed_secret_key=seal(box, new_secret(40), account_id, access_key),
        verified=verified,
        in_arrears=False,
        created_at=datetime.now(UTC),
    )
    session.add(account)
    session.flush()
    return _record(box, account)


def by_access_key(session: Session, box: SecretBox, access_key: str) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.access_key == access_key))
    return _record(box, a) if a else None


def by_name(session: Session, box: SecretBox, name: str) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.name == name))
    return _record(box, a) if a else None


def all_accounts(session: Session, box: SecretBox) -> list[AccountRecord]:
    return [_record(box, a) for a in session.scalars(select(Account).order_by(Account.created_at))]


def lock_account(session: Session, account_id: str) -> None:
    """Serialize an account's quota-guarded writes (a row lock on PostgreSQL; SQLite's
    IMMEDIATE transactions already serialize writers)."""
    session.scalar(select(Account.account_id).where(Account.account_id == account_id).with_for_update())


def set_standing(
    session: Session, box: SecretBox, name: str, *, verified: bool | None = None, in_arrears: bool | None = None
) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.name == name))
    if a is None:
        return None
    if verified is not None:
        a.verified = verified
    if in_arrears is not None:
        a.in_arrears = in_arrears
    session.flush()
    return _record(box, a)


def quota_overrides(session: Session, account_id: str, region: str) -> dict[str, int]:
    rows = session.scalars(select(QuotaLimit).where(QuotaLimit.account_id == account_id, QuotaLimit.region == region))
    return {r.resource_type: r.limit for r in rows}


def set_quota(session: Session, account_id: str, region: str, resource_type: str, limit: int) -> None:
    row = session.get(QuotaLimit, (account_id, region, resource_type))
    if row is None:
        session.add(QuotaLimit(account_id=account_id, region=region, resource_type=resource_type, limit=limit))
    else:
        row.limit = limit
    session.flush()
