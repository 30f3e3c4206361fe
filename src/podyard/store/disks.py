"""Cloud disks: the rows the disk service and createPods write, and the few calls control/
makes as it makes disks real (the end of this module).

A disk's ``status`` is the API's: ``creating`` until control has made it, then
``available``, or ``in-use`` while attached to a pod (``pod_id``, one pod at a time);
``deleting`` until control has removed it, then the row is gone. Every byte of every
disk of every account counts against the host's room (``promised_bytes``); writers that
add disks hold ``lock_space`` so two of them never promise the same room twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, select, text, update
from sqlalchemy.orm import Session

from podyard.domain.billing import Charge
from podyard.domain.disks import GB, DiskStatus
from podyard.domain.ids import new_id
from podyard.domain.records import DiskRecord
from podyard.store.paging import page_list, page_rows
from podyard.store.tables import Disk, DiskClientToken

# PostgreSQL's advisory lock (a transaction's) over the host's disk room: podyard's own number.
SPACE_LOCK = 0x706F6469736B  # "podisk"


@dataclass(frozen=True)
class DiskFilter:
    ids: Sequence[str] | None = None
    types: Sequence[str] | None = None
    pod_ids: Sequence[str] | None = None
    attached: bool | None = None
    statuses: Sequence[str] | None = None
    azs: Sequence[str] | None = None
    name_like: str | None = None
    tags: Sequence[tuple[str, Sequence[str]]] = ()


@dataclass(frozen=True)
class NewDisk:
    """A disk to insert: createDisks', or one a pod makes (attached to it at once)."""

    account_id: str
    region: str
    az: str
    name: str
    description: str | None
    disk_type: str
    size_gb: int
    iops: int | None
    fs_type: str
    status: str
    snapshot_id: str | None
    charge_mode: str
    tags: Sequence[tuple[str, str | None]] = ()
    pod_id: str | None = None
    volume_name: str | None = None
    auto_delete: bool = False


def _record(r: Disk) -> DiskRecord:
    return DiskRecord(
        disk_id=r.disk_id,
        account_id=r.account_id,
        region=r.region,
        az=r.az,
        name=r.name,
        description=r.description,
        disk_type=r.disk_type,
        size_gb=r.size_gb,
        iops=r.iops,
        fs_type=r.fs_type,
        status=r.status,
        snapshot_id=r.snapshot_id,
        pod_id=r.pod_id,
        volume_name=r.volume_name,
        attached_at=r.attached_at,
        auto_delete=r.auto_delete,
        format_pending=r.format_pending,
        charge=Charge(mode=r.charge_mode, start=r.created_at),
        tags=tuple((t["key"], t.get("value")) for t in r.tags),
        created_at=r.created_at,
    )


def get(session: Session, account_id: str, region: str, disk_id: str, *, lock: bool = False) -> DiskRecord | None:
    """The account's disk; ``lock`` holds it (on PostgreSQL) to the transaction's end."""
    q = select(Disk).where(Disk.disk_id == disk_id, Disk.account_id == account_id, Disk.region == region)
    row = session.scalar(q.with_for_update() if lock else q)
    return _record(row) if row else None


def insert(session: Session, wanted: Sequence[NewDisk], now: datetime) -> list[str]:
    rows = [
        Disk(
            disk_id=new_id("vol"),
            account_id=n.account_id,
            region=n.region,
            az=n.az,
            name=n.name,
            description=n.description,
            disk_type=n.disk_type,
            size_gb=n.size_gb,
            iops=n.iops,
            fs_type=n.fs_type,
            status=n.status,
            snapshot_id=n.snapshot_id,
            pod_id=n.pod_id,
            volume_name=n.volume_name,
            attached_at=now if n.pod_id else None,
            auto_delete=n.auto_delete,
            format_pending=False,
            charge_mode=n.charge_mode,
            tags=[{"key": k, "value": v} for k, v in n.tags],
            created_at=now,
        )
        for n in wanted
    ]
    session.add_all(rows)
    session.flush()
    return [r.disk_id for r in rows]


def _tags_match(tags: list[dict[str, Any]], wanted: Sequence[tuple[str, Sequence[str]]]) -> bool:
    have = {t["key"]: t.get("value") for t in tags}
    return all(k in have and (not values or have[k] in values) for k, values in wanted)


def page(
    session: Session, account_id: str, region: str, f: DiskFilter, number: int, size: int
) -> tuple[list[DiskRecord], int]:
    q = select(Disk).where(Disk.account_id == account_id, Disk.region == region)
    for column, values in (
        (Disk.disk_id, f.ids),
        (Disk.disk_type, f.types),
        (Disk.pod_id, f.pod_ids),
        (Disk.status, f.statuses),
        (Disk.az, f.azs),
    ):
        if values is not None:
            q = q.where(column.in_(values))
    if f.attached is not None:
        q = q.where(Disk.pod_id.is_not(None) if f.attached else Disk.pod_id.is_(None))
    if f.name_like is not None:
        q = q.where(Disk.name.icontains(f.name_like, autoescape=True))
    order = (Disk.created_at, Disk.disk_id)
    if f.tags:
        rows, total = page_list(
            [r for r in session.scalars(q.order_by(*order)) if _tags_match(r.tags, f.tags)], number, size
        )
    else:
        rows, total = page_rows(session, q, order, number, size)
    return [_record(r) for r in rows], total


def count(session: Session, account_id: str, region: str) -> int:
    """The account's disks in the region, whatever their status (the disk quota)."""
    q = select(func.count()).select_from(Disk).where(Disk.account_id == account_id, Disk.region == region)
    return int(session.scalar(q) or 0)


def lock_space(session: Session) -> None:
    """Serialize the writers that add disks, over all accounts (an advisory lock on
    PostgreSQL; SQLite's IMMEDIATE transactions already serialize writers)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SPACE_LOCK})


def promised_bytes(session: Session) -> int:
    """Every byte the disks of all accounts may fill: each disk's size, whatever its
    status but error_create (a disk that failed to be made holds nothing)."""
    q = select(func.coalesce(func.sum(Disk.size_gb), 0)).where(Disk.status != DiskStatus.ERROR_CREATE)
    return int(session.scalar(q) or 0) * GB


def of_pod(session: Session, pod_id: str) -> list[DiskRecord]:
    """The disks attached to a pod, by volume name."""
    rows = session.scalars(select(Disk).where(Disk.pod_id == pod_id).order_by(Disk.volume_name))
    return [_record(r) for r in rows]


def attach(
    session: Session,
    disk_id: str,
    pod_id: str,
    volume_name: str,
    now: datetime,
    *,
    fs_type: str,
    auto_delete: bool,
    reformat: bool,
) -> None:
    """An available disk attached to a pod as its volume ``volume_name``; ``reformat``:
    control makes a new ``fs_type`` filesystem on it before mounting it."""
    session.execute(
        update(Disk)
        .where(Disk.disk_id == disk_id)
        .values(
            pod_id=pod_id,
            volume_name=volume_name,
            attached_at=now,
            status=DiskStatus.IN_USE,
            fs_type=fs_type,
            auto_delete=auto_delete,
            format_pending=reformat,
        )
    )


def set_status(session: Session, disk_id: str, status: str) -> None:
    session.execute(update(Disk).where(Disk.disk_id == disk_id).values(status=status))


def delete_disk(session: Session, disk_id: str) -> None:
    session.execute(delete(Disk).where(Disk.disk_id == disk_id))


def being_made_from(session: Session, snapshot_id: str) -> list[str]:
    """Disks still being made from a snapshot (control copies it meanwhile)."""
    q = select(Disk.disk_id).where(Disk.snapshot_id == snapshot_id, Disk.status == DiskStatus.CREATING)
    return list(session.scalars(q.order_by(Disk.disk_id)))


def client_token(session: Session, account_id: str, region: str, action: str, token: str) -> DiskClientToken | None:
    return session.get(DiskClientToken, (account_id, region, action, token))


def remember_client_token(
    session: Session,
    account_id: str,
    region: str,
    action: str,
    token: str,
    request_hash: str,
    ids: list[str],
    now: datetime,
) -> None:
    session.add(
        DiskClientToken(
            account_id=account_id,
            region=region,
            action=action,
            token=token,
            request_hash=request_hash,
            resource_ids=ids,
            created_at=now,
        )
    )


# -- for control/: what to make or remove, and what became of it --


def holders(session: Session) -> dict[str, str | None]:
    """Every disk of every account, with the pod it is attached to (sweeps after a crash)."""
    return {disk_id: pod_id for disk_id, pod_id in session.execute(select(Disk.disk_id, Disk.pod_id))}


def to_make(session: Session) -> list[DiskRecord]:
    """Disks to make (``creating``): an image of ``size_gb`` with ``fs_type``, or a copy
    of ``snapshot_id``; then ``made`` (or ``failed``)."""
    rows = session.scalars(select(Disk).where(Disk.status == DiskStatus.CREATING).order_by(Disk.created_at))
    return [_record(r) for r in rows]


def made(session: Session, disk_id: str) -> bool:
    """A disk made: in-use if attached, else available. False if it was not being made."""
    done = session.execute(
        update(Disk)
        .where(Disk.disk_id == disk_id, Disk.status == DiskStatus.CREATING)
        .values(status=case((Disk.pod_id.is_(None), DiskStatus.AVAILABLE.value), else_=DiskStatus.IN_USE.value))
    )
    return bool(getattr(done, "rowcount", 0))


def to_format(session: Session) -> list[DiskRecord]:
    """Made disks marked for a new ``fs_type`` filesystem (a pod's formatVolume), attached
    or since detached (the mark stays: ``fs_type`` already says the new filesystem): then
    ``formatted``. An attached one is formatted before its pod mounts it."""
    q = select(Disk).where(Disk.format_pending.is_(True), Disk.status.in_((DiskStatus.IN_USE, DiskStatus.AVAILABLE)))
    return [_record(r) for r in session.scalars(q.order_by(Disk.created_at))]


def formatted(session: Session, disk_id: str) -> None:
    """The new filesystem a pod asked for (formatVolume) is made."""
    session.execute(update(Disk).where(Disk.disk_id == disk_id).values(format_pending=False))


def failed(session: Session, disk_id: str) -> None:
    """Making the disk failed for good (``error_create``), or removing it (``error_delete``)."""
    session.execute(
        update(Disk)
        .where(Disk.disk_id == disk_id, Disk.status.in_((DiskStatus.CREATING, DiskStatus.DELETING)))
        .values(
            status=case(
                (Disk.status == DiskStatus.CREATING, DiskStatus.ERROR_CREATE.value),
                else_=DiskStatus.ERROR_DELETE.value,
            )
        )
    )


def to_remove(session: Session) -> list[DiskRecord]:
    """Disks to remove (``deleting``, no longer attached): then ``removed``."""
    q = select(Disk).where(Disk.status == DiskStatus.DELETING, Disk.pod_id.is_(None)).order_by(Disk.created_at)
    return [_record(r) for r in session.scalars(q)]


def removed(session: Session, disk_id: str) -> None:
    """A disk gone from the host: its row goes (only one being deleted)."""
    session.execute(delete(Disk).where(Disk.disk_id == disk_id, Disk.status == DiskStatus.DELETING))


def release_pod(session: Session, pod_id: str) -> None:
    """A pod that is gone holds no disk: its autoDelete disks (``deleting`` since
    deletePod) wait for control to remove them, the others become available (or stay
    creating, or in error, as they were)."""
    session.execute(
        update(Disk)
        .where(Disk.pod_id == pod_id)
        .values(
            pod_id=None,
            volume_name=None,
            attached_at=None,
            status=case((Disk.status == DiskStatus.IN_USE, DiskStatus.AVAILABLE.value), else_=Disk.status),
        )
    )
