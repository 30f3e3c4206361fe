"""Accounts, their keys and standing, and their quota overrides."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from podyard.domain.ids import new_id, new_secret
from podyard.domain.records import AccountRecord
from podyard.store.tables import Account, QuotaLimit


def _record(a: Account) -> AccountRecord:
    return AccountRecord(
        account_id=a.account_id,
        name=a.name,
        access_key=a.access_key,
        secret_key=a.secret_key,
        verified=a.verified,
        in_arrears=a.in_arrears,
    )


def create_account(session: Session, name: str, *, verified: bool = True) -> AccountRecord:
    account = Account(
        account_id=new_id("acct"),
        name=name,
        access_key=new_secret(32).upper(),
        secret_key=new_secret(40),
        verified=verified,
        in_arrears=False,
        created_at=datetime.now(UTC),
    )
    session.add(account)
    session.flush()
    return _record(account)


def by_access_key(session: Session, access_key: str) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.access_key == access_key))
    return _record(a) if a else None


def by_name(session: Session, name: str) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.name == name))
    return _record(a) if a else None


def all_accounts(session: Session) -> list[AccountRecord]:
    return [_record(a) for a in session.scalars(select(Account).order_by(Account.created_at))]


def lock_account(session: Session, account_id: str) -> None:
    """Serialize an account's quota-guarded writes (a row lock on PostgreSQL; SQLite's
    IMMEDIATE transactions already serialize writers)."""
    session.scalar(select(Account.account_id).where(Account.account_id == account_id).with_for_update())


def set_standing(
    session: Session, name: str, *, verified: bool | None = None, in_arrears: bool | None = None
) -> AccountRecord | None:
    a = session.scalar(select(Account).where(Account.name == name))
    if a is None:
        return None
    if verified is not None:
        a.verified = verified
    if in_arrears is not None:
        a.in_arrears = in_arrears
    session.flush()
    return _record(a)


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
