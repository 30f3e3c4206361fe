"""Snapshots of cloud disks: the rows the disk service writes, and the calls control/
makes as it takes and removes them (the end of this module).

``creating`` until control has copied the disk, then ``available``; ``deleting`` until
control has removed the copy, then the row is gone. A snapshot outlives its disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from podyard.domain.disks import SnapshotStatus
from podyard.domain.ids import new_id
from podyard.domain.records import SnapshotRecord
from podyard.store.paging import page_rows
from podyard.store.tables import Snapshot


@dataclass(frozen=True)
class SnapshotFilter:
    ids: Sequence[str] | None = None
    disk_ids: Sequence[str] | None = None
    statuses: Sequence[str] | None = None
    name_like: str | None = None


def _record(r: Snapshot) -> SnapshotRecord:
    return SnapshotRecord(
        snapshot_id=r.snapshot_id,
        account_id=r.account_id,
        region=r.region,
        disk_id=r.disk_id,
        name=r.name,
        description=r.description,
        size_gb=r.size_gb,
        fs_type=r.fs_type,
        status=r.status,
        created_at=r.created_at,
    )


def get(
    session: Session, account_id: str, region: str, snapshot_id: str, *, lock: bool = False
) -> SnapshotRecord | None:
    """The account's snapshot; ``lock`` holds it (on PostgreSQL) to the transaction's end."""
    q = select(Snapshot).where(
        Snapshot.snapshot_id == snapshot_id, Snapshot.account_id == account_id, Snapshot.region == region
    )
    row = session.scalar(q.with_for_update() if lock else q)
    return _record(row) if row else None


def insert(
    session: Session,
    account_id: str,
    region: str,
    disk_id: str,
    name: str,
    description: str | None,
    size_gb: int,
    fs_type: str,
    status: str,
    now: datetime,
) -> str:
    row = Snapshot(
        snapshot_id=new_id("snapshot"),
        account_id=account_id,
        region=region,
        disk_id=disk_id,
        name=name,
        description=description,
        size_gb=size_gb,
        fs_type=fs_type,
        status=status,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row.snapshot_id


def page(
    session: Session, account_id: str, region: str, f: SnapshotFilter, number: int, size: int
) -> tuple[list[SnapshotRecord], int]:
    q = select(Snapshot).where(Snapshot.account_id == account_id, Snapshot.region == region)
    for column, values in (
        (Snapshot.snapshot_id, f.ids),
        (Snapshot.disk_id, f.disk_ids),
        (Snapshot.status, f.statuses),
    ):
        if values is not None:
            q = q.where(column.in_(values))
    if f.name_like is not None:
        q = q.where(Snapshot.name.icontains(f.name_like, autoescape=True))
    rows, total = page_rows(session, q, (Snapshot.created_at, Snapshot.snapshot_id), number, size)
    return [_record(r) for r in rows], total


def count(session: Session, account_id: str, region: str) -> int:
    """The account's snapshots in the region, whatever their status (the snapshot quota)."""
    q = select(func.count()).select_from(Snapshot).where(Snapshot.account_id == account_id, Snapshot.region == region)
    return int(session.scalar(q) or 0)


def set_status(session: Session, snapshot_id: str, status: str) -> None:
    session.execute(update(Snapshot).where(Snapshot.snapshot_id == snapshot_id).values(status=status))


def delete_snapshot(session: Session, snapshot_id: str) -> None:
    session.execute(delete(Snapshot).where(Snapshot.snapshot_id == snapshot_id))


def being_taken_of(session: Session, disk_id: str) -> list[str]:
    """Snapshots still being copied from a disk."""
    q = select(Snapshot.snapshot_id).where(Snapshot.disk_id == disk_id, Snapshot.status == SnapshotStatus.CREATING)
    return list(session.scalars(q.order_by(Snapshot.snapshot_id)))


# -- for control/: what to take or remove, and what became of it --


def all_ids(session: Session) -> set[str]:
    """Every snapshot of every account (sweeps after a crash)."""
    return set(session.scalars(select(Snapshot.snapshot_id)))


def to_take(session: Session) -> list[SnapshotRecord]:
    """Snapshots to take (``creating``) of ``disk_id``: then ``taken`` (or ``failed``)."""
    q = select(Snapshot).where(Snapshot.status == SnapshotStatus.CREATING).order_by(Snapshot.created_at)
    return [_record(r) for r in session.scalars(q)]


def taken(session: Session, snapshot_id: str) -> None:
    session.execute(
        update(Snapshot)
        .where(Snapshot.snapshot_id == snapshot_id, Snapshot.status == SnapshotStatus.CREATING)
        .values(status=SnapshotStatus.AVAILABLE)
    )


def failed(session: Session, snapshot_id: str) -> None:
    """Taking the snapshot failed for good (``error_create``), or removing it (``error_delete``)."""
    session.execute(
        update(Snapshot)
        .where(
            Snapshot.snapshot_id == snapshot_id,
            Snapshot.status.in_((SnapshotStatus.CREATING, SnapshotStatus.DELETING)),
        )
        .values(
            status=case(
                (Snapshot.status == SnapshotStatus.CREATING, SnapshotStatus.ERROR_CREATE.value),
                else_=SnapshotStatus.ERROR_DELETE.value,
            )
        )
    )


def to_remove(session: Session) -> list[SnapshotRecord]:
    """Snapshots to remove (``deleting``): then ``removed``."""
    q = select(Snapshot).where(Snapshot.status == SnapshotStatus.DELETING).order_by(Snapshot.created_at)
    return [_record(r) for r in session.scalars(q)]


def removed(session: Session, snapshot_id: str) -> None:
    session.execute(
        delete(Snapshot).where(Snapshot.snapshot_id == snapshot_id, Snapshot.status == SnapshotStatus.DELETING)
    )
