"""Pods and their containers: desired state written by services, observed state by the reconciler."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import JSON, RowMapping, Table, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from podyard.domain.billing import Charge
from podyard.domain.memo import Memo
from podyard.domain.records import ContainerRecord, PodRecord
from podyard.domain.status import Condition, ContainerStatus
from podyard.store import networks
from podyard.store.db import Database
from podyard.store.tables import ClientToken, ElasticIp, Pod, PodContainer, UtcDateTime


@dataclass(frozen=True)
class PodFilter:
    pod_ids: Sequence[str] = ()
    ip_like: str | None = None
    azs: Sequence[str] = ()
    vpc_ids: Sequence[str] = ()
    phases: Sequence[str] = ()
    name_like: str | None = None
    subnet_ids: Sequence[str] = ()
    tags: Sequence[tuple[str, Sequence[str]]] = field(default_factory=tuple)


_POD = cast(Table, Pod.__table__)
_CONTAINER = cast(Table, PodContainer.__table__)
_ELASTIC_IP = cast(Table, ElasticIp.__table__)


def _record(
    p: Mapping[Any, Any],
    containers: list[ContainerRecord],
    sg_names: dict[str, str],
    eips: dict[str, tuple[str, str]],
) -> PodRecord:
    return PodRecord(
        pod_id=p["pod_id"],
        account_id=p["account_id"],
        region=p["region"],
        name=p["name"],
        description=p["description"],
        az=p["az"],
        hostname=p["hostname"],
        instance_type=p["instance_type"],
        restart_policy=p["restart_policy"],
        grace_seconds=p["grace_seconds"],
        spec=p["spec"],
        vpc_id=p["vpc_id"],
        subnet_id=p["subnet_id"],
        ip=p["ip"],
        network_interface_id=p["network_interface_id"],
        security_groups=tuple((g, sg_names.get(g, "")) for g in p["security_group_ids"]),
        tags=tuple((t["key"], t.get("value")) for t in p["tags"]),
        charge=Charge(mode=p["charge_mode"], start=p["charge_start"], expires=p["charge_expires"]),
        desired=p["desired"],
        phase=p["phase"],
        reason=p["phase_reason"],
        message=p["phase_message"],
        conditions=tuple(Condition.from_wire(c) for c in p["conditions"]),
        start_time=p["start_time"],
        mac_address=p["mac_address"],
        generation=p["generation"],
        materialized_generation=p["materialized_generation"],
        intent_version=p["intent_version"],
        created_at=p["created_at"],
        containers=tuple(containers),
        elastic_ip=eips.get(p["pod_id"]),
        secondary_ips=tuple(p["secondary_ips"] or ()),
    )


def _records(session: Session, rows: Sequence[RowMapping]) -> list[PodRecord]:
    """Records of pod rows: their containers and group names in one query each (reads are
    the hot path, so they go through SQLAlchemy Core, not the ORM)."""
    if not rows:
        return []
    containers: dict[str, list[ContainerRecord]] = {r["pod_id"]: [] for r in rows}
    c = _CONTAINER.c
    query = select(c.pod_id, c.name, c.spec, c.status).where(c.pod_id.in_(containers)).order_by(c.pod_id, c.position)
    for row in session.execute(query):
        containers[row.pod_id].append(ContainerRecord(row.name, row.spec, ContainerStatus.from_wire(row.status)))
    names = networks.security_group_names(session, sorted({g for r in rows for g in r["security_group_ids"]}))
    e = _ELASTIC_IP.c
    eips = {
        row.pod_id: (row.elastic_ip_id, row.address)
        for row in session.execute(select(e.pod_id, e.elastic_ip_id, e.address).where(e.pod_id.in_(containers)))
    }
    return [_record(r, containers[r["pod_id"]], names, eips) for r in rows]


_JSON_COLUMNS = tuple(c.name for c in _POD.columns if isinstance(c.type, JSON))
_TIME_COLUMNS = tuple(c.name for c in _POD.columns if isinstance(c.type, UtcDateTime))


def _decoded(names: Sequence[str], row: tuple[Any, ...]) -> dict[str, Any]:
    """A raw SQLite row as SQLAlchemy's types would give it (the table says which)."""
    out = dict(zip(names, row, strict=True))
    for name in _JSON_COLUMNS:
        if out[name] is not None:
            out[name] = orjson.loads(out[name])
    for name in _TIME_COLUMNS:
        if out[name] is not None:
            out[name] = datetime.fromisoformat(out[name]).replace(tzinfo=UTC)
    return out


def _raw_records(conn: Any, rows: Sequence[sqlite3.Row]) -> list[PodRecord]:
    """Records of raw pod rows: their containers, group names and elastic IPs in one query each."""
    if not rows:
        return []
    names = rows[0].keys()
    pods = [_decoded(names, tuple(r)) for r in rows]
    ids = [p["pod_id"] for p in pods]
    containers: dict[str, list[ContainerRecord]] = {i: [] for i in ids}
    marks = ",".join("?" * len(ids))
    query = f"SELECT pod_id, name, spec, status FROM pod_containers WHERE pod_id IN ({marks}) ORDER BY pod_id, position"
    for pod_id, name, spec, status in conn.execute(query, ids):
        containers[pod_id].append(
            ContainerRecord(name, orjson.loads(spec), ContainerStatus.from_wire(orjson.loads(status)))
        )
    group_names = _group_names(conn, {g for p in pods for g in p["security_group_ids"]})
    eips = _elastic_ips(conn, ids)
    return [_record(p, containers[p["pod_id"]], group_names, eips) for p in pods]


def _group_names(conn: Any, groups: set[str]) -> dict[str, str]:
    marks = ",".join("?" * len(groups))
    query = f"SELECT security_group_id, name FROM security_groups WHERE security_group_id IN ({marks})"
    return dict(conn.execute(query, sorted(groups)).fetchall())


def _elastic_ips(conn: Any, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    marks = ",".join("?" * len(ids))
    query = f"SELECT pod_id, elastic_ip_id, address FROM elastic_ips WHERE pod_id IN ({marks})"
    return {r[0]: (r[1], r[2]) for r in conn.execute(query, ids)}


# describePods and describePod are polled: they would rebuild the same records from the same
# rows again and again. A record is kept by its pod's revision (which the database bumps on
# any change of the pod's row or its containers' rows: migration 0009), its groups' names and
# its elastic IP, so a change to any of them misses; an unchanged pod's row and containers
# are not read at all. Records are frozen and callers of the API reads do not change them.
_memo: Memo[tuple[Any, ...], PodRecord] = Memo(2048)

# What a kept read selects first: enough to find a kept record.
_HEADS = "SELECT pod_id, revision, security_group_ids FROM pods"


def _kept_records(conn: Any, heads: Sequence[tuple[str, int, str]]) -> list[PodRecord]:
    """Records of (pod_id, revision, security_group_ids) heads, in their order: the kept
    ones as they are, the others read whole in the same read transaction, and kept."""
    if not heads:
        return []
    pod_groups = {pod_id: orjson.loads(groups) for pod_id, _, groups in heads}
    group_names = _group_names(conn, {g for gs in pod_groups.values() for g in gs})
    eips = _elastic_ips(conn, list(pod_groups))
    keys = {
        pod_id: (pod_id, revision, tuple(group_names.get(g) for g in pod_groups[pod_id]), eips.get(pod_id))
        for pod_id, revision, _ in heads
    }
    found = {pod_id: _memo.get(key) for pod_id, key in keys.items()}
    missing = [pod_id for pod_id, record in found.items() if record is None]
    if missing:
        marks = ",".join("?" * len(missing))
        rows = conn.execute(f"SELECT * FROM pods WHERE pod_id IN ({marks})", missing).fetchall()
        for record in _raw_records(conn, rows):
            found[record.pod_id] = record
            _memo.put(keys[record.pod_id], record)
    return [r for r in found.values() if r is not None]


def read_pod(db: Database, account_id: str | None, region: str | None, pod_id: str) -> PodRecord | None:
    """describePod's read (and the reconciler's, without an owner): on SQLite straight
    through the DBAPI, at a tenth of the cost."""
    if not db.is_sqlite:
        with db.read() as s:
            return get_any(s, pod_id) if account_id is None else get(s, account_id, region or "", pod_id)
    with db.raw_read() as conn:
        if account_id is None:  # the reconciler's: fresh, never kept
            records = _raw_records(conn, conn.execute("SELECT * FROM pods WHERE pod_id = ?", (pod_id,)).fetchall())
        else:
            query = f"{_HEADS} WHERE pod_id = ? AND account_id = ? AND region = ?"
            records = _kept_records(conn, conn.execute(query, (pod_id, account_id, region)).fetchall())
    return records[0] if records else None


def _pod_rows(session: Session, *where: Any, lock: bool = False) -> Sequence[RowMapping]:
    query = select(_POD).where(*where)
    return session.execute(query.with_for_update() if lock else query).mappings().all()


def insert_pod(session: Session, r: PodRecord) -> None:
    pod = Pod(
        pod_id=r.pod_id,
        account_id=r.account_id,
        region=r.region,
        name=r.name,
        description=r.description,
        az=r.az,
        hostname=r.hostname,
        instance_type=r.instance_type,
        restart_policy=r.restart_policy,
        grace_seconds=r.grace_seconds,
        spec=r.spec,
        vpc_id=r.vpc_id,
        subnet_id=r.subnet_id,
        ip=r.ip,
        secondary_ips=list(r.secondary_ips),
        network_interface_id=r.network_interface_id,
        security_group_ids=[g for g, _ in r.security_groups],
        tags=[{"key": k, "value": v} for k, v in r.tags],
        charge_mode=r.charge.mode,
        charge_start=r.charge.start,
        charge_expires=r.charge.expires,
        desired=r.desired,
        phase=r.phase,
        phase_reason=r.reason,
        phase_message=r.message,
        conditions=[c.to_wire() for c in r.conditions],
        start_time=r.start_time,
        mac_address=r.mac_address,
        generation=r.generation,
        materialized_generation=r.materialized_generation,
        intent_version=r.intent_version,
        created_at=r.created_at,
    )
    pod.containers = [
        PodContainer(name=c.name, position=i, spec=c.spec, status=c.status.to_wire())
        for i, c in enumerate(r.containers)
    ]
    session.add(pod)


def usage(session: Session, account_id: str, region: str) -> tuple[int, int]:
    """Pods and containers the account has in the region (deleting ones included)."""
    pods = session.scalar(
        select(func.count()).select_from(Pod).where(Pod.account_id == account_id, Pod.region == region)
    )
    containers = session.scalar(
        select(func.count())
        .select_from(PodContainer)
        .join(Pod)
        .where(Pod.account_id == account_id, Pod.region == region)
    )
    return int(pods or 0), int(containers or 0)


def names_taken(session: Session, account_id: str, region: str, names: Sequence[str]) -> list[str]:
    return list(
        session.scalars(select(Pod.name).where(Pod.account_id == account_id, Pod.region == region, Pod.name.in_(names)))
    )


def client_token(session: Session, account_id: str, region: str, token: str) -> ClientToken | None:
    return session.get(ClientToken, (account_id, region, token))


def remember_client_token(
    session: Session, account_id: str, region: str, token: str, request_hash: str, pod_ids: list[str], now: datetime
) -> None:
    session.add(
        ClientToken(
            account_id=account_id,
            region=region,
            token=token,
            request_hash=request_hash,
            pod_ids=pod_ids,
            created_at=now,
        )
    )


def get(session: Session, account_id: str, region: str, pod_id: str, *, lock: bool = False) -> PodRecord | None:
    """The account's pod; ``lock`` holds it (on PostgreSQL) to the transaction's end, so
    an action checked against its phase is written before another is checked."""
    where = (_POD.c.pod_id == pod_id, _POD.c.account_id == account_id, _POD.c.region == region)
    rows = _pod_rows(session, *where, lock=lock)
    return _records(session, rows)[0] if rows else None


def get_any(session: Session, pod_id: str, *, lock: bool = False) -> PodRecord | None:
    rows = _pod_rows(session, _POD.c.pod_id == pod_id, lock=lock)
    return _records(session, rows)[0] if rows else None


def all_pod_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Pod.pod_id)))


# How each filter of describePods becomes a condition: (filter field, column, operator).
_FILTERS = (
    ("pod_ids", "pod_id", "in"),
    ("ip_like", "ip", "contains"),
    ("azs", "az", "in"),
    ("vpc_ids", "vpc_id", "in"),
    ("phases", "phase", "in"),
    ("name_like", "name", "contains"),
    ("subnet_ids", "subnet_id", "in"),
)


def _conditions(account_id: str, region: str, f: PodFilter) -> list[Any]:
    """The filters as conditions; "contains" ignores case on every database (as SQLite's
    LIKE, which the raw path uses, does; PostgreSQL's LIKE would not)."""
    c = _POD.c
    where = [c.account_id == account_id, c.region == region]
    for field_name, column, op in _FILTERS:
        value = getattr(f, field_name)
        if value:
            where.append(c[column].in_(value) if op == "in" else c[column].icontains(value, autoescape=True))
    return where


def _sql_conditions(account_id: str, region: str, f: PodFilter) -> tuple[str, list[Any]]:
    """The same conditions as SQL text with ``?`` parameters, for the raw SQLite path."""
    parts, params = ["account_id = ?", "region = ?"], [account_id, region]
    for field_name, column, op in _FILTERS:
        value = getattr(f, field_name)
        if not value:
            continue
        if op == "in":
            parts.append(f"{column} IN ({','.join('?' * len(value))})")
            params.extend(value)
        else:
            escaped = value.replace("/", "//").replace("%", "/%").replace("_", "/_")
            parts.append(f"{column} LIKE ? ESCAPE '/'")
            params.append(f"%{escaped}%")
    return " AND ".join(parts), params


def _tags_match(tags: list[dict[str, Any]], wanted: Sequence[tuple[str, Sequence[str]]]) -> bool:
    have = {t["key"]: t.get("value") for t in tags}
    return all(k in have and (not values or have[k] in values) for k, values in wanted)


def read_page(
    db: Database, account_id: str, region: str, f: PodFilter, number: int, size: int
) -> tuple[list[PodRecord], int]:
    """describePods' read: on SQLite straight through the DBAPI."""
    if not db.is_sqlite or f.tags:
        with db.read() as s:
            return page(s, account_id, region, f, number, size)
    where, params = _sql_conditions(account_id, region, f)
    with db.raw_read() as conn:
        total = conn.execute(f"SELECT count(*) FROM pods WHERE {where}", params).fetchone()[0]
        heads = conn.execute(
            f"{_HEADS} WHERE {where} ORDER BY created_at DESC, pod_id DESC LIMIT ? OFFSET ?",
            [*params, size, (number - 1) * size],
        ).fetchall()
        return _kept_records(conn, heads), int(total)


def page(
    session: Session, account_id: str, region: str, f: PodFilter, number: int, size: int
) -> tuple[list[PodRecord], int]:
    where = _conditions(account_id, region, f)
    order = (_POD.c.created_at.desc(), _POD.c.pod_id.desc())
    if f.tags:
        ids = [
            r.pod_id
            for r in session.execute(select(_POD.c.pod_id, _POD.c.tags).where(*where).order_by(*order))
            if _tags_match(r.tags, f.tags)
        ]
        chosen = ids[(number - 1) * size : number * size]
        by_id = {r["pod_id"]: r for r in _pod_rows(session, _POD.c.pod_id.in_(chosen))}
        return _records(session, [by_id[i] for i in chosen]), len(ids)
    total = session.scalar(select(func.count()).select_from(_POD).where(*where))
    query = select(_POD).where(*where).order_by(*order).offset((number - 1) * size).limit(size)
    return _records(session, session.execute(query).mappings().all()), int(total or 0)


def apply_intent(session: Session, pod_id: str, *, phase: str, desired: str, bump_generation: bool = False) -> None:
    values: dict[str, Any] = {
        "phase": phase,
        "desired": desired,
        "phase_reason": None,
        "phase_message": None,
        "intent_version": Pod.intent_version + 1,
    }
    if bump_generation:
        values["generation"] = Pod.generation + 1
    session.execute(update(Pod).where(Pod.pod_id == pod_id).values(**values))


def set_description(session: Session, pod_id: str, description: str | None) -> None:
    session.execute(update(Pod).where(Pod.pod_id == pod_id).values(description=description))


def set_instance_type(session: Session, pod_id: str, instance_type: str) -> None:
    p = session.get(Pod, pod_id)
    assert p is not None
    p.instance_type = instance_type
    p.spec = {**p.spec, "instanceType": instance_type}


def replace_container_specs(session: Session, pod_id: str, specs: dict[str, dict[str, Any]]) -> None:
    for c in session.scalars(select(PodContainer).where(PodContainer.pod_id == pod_id)):
        if c.name in specs:
            c.spec = specs[c.name]


@dataclass(frozen=True)
class Observation:
    """What the reconciler saw and decided, written back in one step."""

    phase: str | None
    reason: str | None
    message: str | None
    conditions: Sequence[Condition]
    containers: Sequence[ContainerStatus]
    start_time: datetime | None
    mac_address: str | None
    materialized_generation: int | None
    desired: str | None = None


def save_observation(session: Session, pod_id: str, intent_version: int, obs: Observation) -> bool:
    """Write what was observed. The phase (and desired state) are written only if no user
    action came in since the reconciler read the pod; returns whether they were."""
    # Locked (on PostgreSQL): a user action lands before this read or after this write.
    version = session.scalar(select(_POD.c.intent_version).where(_POD.c.pod_id == pod_id).with_for_update())
    if version is None:
        return False
    current = version == intent_version
    if obs.containers:
        c = _CONTAINER.c
        session.execute(
            update(_CONTAINER).where(c.pod_id == pod_id, c.name == bindparam("container")),
            [{"container": s.name, "status": s.to_wire()} for s in obs.containers],
        )
    values: dict[str, Any] = {
        "conditions": [c.to_wire() for c in obs.conditions],
        "materialized_generation": obs.materialized_generation,
    }
    if obs.mac_address:
        values["mac_address"] = obs.mac_address
    if obs.start_time is not None or current:
        values["start_time"] = obs.start_time
    if current and obs.phase is not None:
        values.update(phase=obs.phase, phase_reason=obs.reason, phase_message=obs.message)
        if obs.desired is not None:
            values["desired"] = obs.desired
    session.execute(update(_POD).where(_POD.c.pod_id == pod_id).values(**values))
    return current


def delete_pod(session: Session, pod_id: str) -> None:
    """Forget a pod for good and free its address (an elastic IP it still held stays its
    account's, disassociated)."""
    networks.release(session, pod_id)
    session.execute(update(_ELASTIC_IP).where(_ELASTIC_IP.c.pod_id == pod_id).values(pod_id=None))
    session.execute(delete(PodContainer).where(PodContainer.pod_id == pod_id))
    session.execute(delete(Pod).where(Pod.pod_id == pod_id))
