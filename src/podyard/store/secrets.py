"""Registry secrets: sealed on the way in, opened on the way out."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from podyard.domain.secrets import SecretRecord
from podyard.store.crypto import SecretBox
from podyard.store.tables import Pod, PodContainer
from podyard.store.tables import Secret as SecretRow


def _bound(account_id: str, region: str, name: str) -> str:
    return f"{account_id}/{region}/{name}"


def add(session: Session, box: SecretBox, account_id: str, region: str, record: SecretRecord) -> None:
    sealed = box.seal(json.dumps(record.data).encode(), _bound(account_id, region, record.name))
    session.add(
        SecretRow(
            account_id=account_id,
            region=region,
            name=record.name,
            secret_type=record.secret_type,
            sealed=sealed,
            created_at=record.created_at,
        )
    )


def _record(box: SecretBox, row: SecretRow) -> SecretRecord:
    data = json.loads(box.open(row.sealed, _bound(row.account_id, row.region, row.name)))
    return SecretRecord(name=row.name, secret_type=row.secret_type, created_at=row.created_at, data=data)


def get(session: Session, box: SecretBox, account_id: str, region: str, name: str) -> SecretRecord | None:
    row = session.get(SecretRow, (account_id, region, name))
    return _record(box, row) if row else None


def exists(session: Session, account_id: str, region: str, name: str) -> bool:
    return session.get(SecretRow, (account_id, region, name)) is not None


def page(
    session: Session, box: SecretBox, account_id: str, region: str, name_like: str | None, number: int, size: int
) -> tuple[list[SecretRecord], int]:
    q = select(SecretRow).where(SecretRow.account_id == account_id, SecretRow.region == region)
    if name_like:
        q = q.where(SecretRow.name.icontains(name_like, autoescape=True))  # as the pods' name filter
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    rows = session.scalars(
        q.order_by(SecretRow.created_at.desc(), SecretRow.name).offset((number - 1) * size).limit(size)
    )
    return [_record(box, r) for r in rows], int(total or 0)


def count(session: Session, account_id: str, region: str) -> int:
    q = (
        select(func.count())
        .select_from(SecretRow)
        .where(SecretRow.account_id == account_id, SecretRow.region == region)
    )
    return int(session.scalar(q) or 0)


def users(session: Session, account_id: str, region: str, name: str) -> list[str]:
    """Pods whose containers pull with the secret."""
    rows = session.execute(
        select(Pod.pod_id, PodContainer.spec)
        .join(PodContainer, PodContainer.pod_id == Pod.pod_id)
        .where(Pod.account_id == account_id, Pod.region == region)
    )
    return sorted({pod_id for pod_id, spec in rows if spec.get("secret") == name})


def remove(session: Session, account_id: str, region: str, name: str) -> None:
    session.execute(
        delete(SecretRow).where(SecretRow.account_id == account_id, SecretRow.region == region, SecretRow.name == name)
    )
