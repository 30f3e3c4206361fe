"""The tables. Every row of a tenant's resource carries its account and region:
tenancy is in the keys, not a filter someone can forget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out: SQLite keeps no zone, and
    PostgreSQL answers in its session's time zone, whatever the server is set to."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UtcDateTime}


class Account(Base):
    __tablename__ = "accounts"

    account_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    access_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The secret key, sealed (store/accounts.py), base64: never in clear at rest.
    sealed_secret_key: Mapped[str] = mapped_column(String(128))
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    in_arrears: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class QuotaLimit(Base):
    """A per-account override of the configured default quota."""

    __tablename__ = "quota_limits"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class Vpc(Base):
    __tablename__ = "vpcs"

    vpc_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    cidr: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Subnet(Base):
    __tablename__ = "subnets"

    subnet_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    region: Mapped[str] = mapped_column(String(32))
    vpc_id: Mapped[str] = mapped_column(ForeignKey("vpcs.vpc_id"))
    name: Mapped[str] = mapped_column(String(64))
    cidr: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    # Default subnets: which block of the host's subnet pool this is (blocks never
    # overlap). Subnets a user creates have none: every VPC is its own network.
    pool_index: Mapped[int | None] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime]


class SecurityGroup(Base):
    __tablename__ = "security_groups"

    security_group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    region: Mapped[str] = mapped_column(String(32))
    vpc_id: Mapped[str] = mapped_column(ForeignKey("vpcs.vpc_id"))
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    # The group made with the account's default VPC: it can be neither deleted nor renamed.
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        order_by="SecurityGroupRule.position", cascade="all, delete-orphan", lazy="selectin"
    )


class SecurityGroupRule(Base):
    """One rule of a security group: direction 0 ingress / 1 egress, protocol 300 (all),
    6, 17 or 1, an address prefix and a port range (0-0 means all ports)."""

    __tablename__ = "security_group_rules"

    rule_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        ForeignKey("security_groups.security_group_id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    direction: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[int] = mapped_column(Integer)
    address_prefix: Mapped[str] = mapped_column(String(64))
    from_port: Mapped[int] = mapped_column(Integer)
    to_port: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class ElasticIp(Base):
    """An address of the operator's pool, held by an account; associated with at most one
    pod (on its primary interface's primary IP)."""

    __tablename__ = "elastic_ips"

    elastic_ip_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(String(64), unique=True)
    bandwidth_mbps: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    pod_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    tags: Mapped[list[Any]]
    charge_mode: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Disk(Base):
    """A cloud disk of an account: attached to at most one pod (``pod_id``, no foreign key:
    a pod's row goes before its disks are released), as its volume ``volume_name``."""

    __tablename__ = "disks"
    __table_args__ = (Index("ix_disks_listing", "account_id", "region", "created_at", "disk_id"),)

    disk_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"))
    region: Mapped[str] = mapped_column(String(32))
    az: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    disk_type: Mapped[str] = mapped_column(String(16))
    size_gb: Mapped[int] = mapped_column(Integer)
    iops: Mapped[int | None] = mapped_column(Integer)
    fs_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(32))  # the snapshot it was made from
    pod_id: Mapped[str | None] = mapped_column(String(32), index=True)
    volume_name: Mapped[str | None] = mapped_column(String(63))
    attached_at: Mapped[datetime | None]
    auto_delete: Mapped[bool] = mapped_column(Boolean, default=False)
    # control makes a new filesystem (fs_type) before the next mount (formatVolume).
    format_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    charge_mode: Mapped[str] = mapped_column(String(32))
    tags: Mapped[list[Any]]
    created_at: Mapped[datetime]


class Snapshot(Base):
    """A snapshot of a disk; it outlives the disk (``disk_id`` has no foreign key)."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_listing", "account_id", "region", "created_at", "snapshot_id"),)

    snapshot_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"))
    region: Mapped[str] = mapped_column(String(32))
    disk_id: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(32))
    description: Mapped[str | None] = mapped_column(Text)
    size_gb: Mapped[int] = mapped_column(Integer)
    fs_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]


class DiskClientToken(Base):
    """createDisks and createSnapshot idempotency, apart from createPods' tokens: the
    action, the token, a hash of the request, and the ids it made."""

    __tablename__ = "disk_client_tokens"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    action: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_ids: Mapped[list[Any]]
    created_at: Mapped[datetime]


class Pod(Base):
    __tablename__ = "pods"
    __table_args__ = (
        UniqueConstraint("account_id", "region", "name", name="uq_pod_name"),
        # describePods walks this index in its order: a page reads only its own rows.
        Index("ix_pods_listing", "account_id", "region", "created_at", "pod_id"),
    )

    pod_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), index=True)
    region: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(253))
    description: Mapped[str | None] = mapped_column(Text)
    az: Mapped[str] = mapped_column(String(32))
    hostname: Mapped[str] = mapped_column(String(63))
    instance_type: Mapped[str] = mapped_column(String(32))
    restart_policy: Mapped[str] = mapped_column(String(16))
    grace_seconds: Mapped[int] = mapped_column(Integer)
    # The normalized podSpec as accepted (containers live in pod_containers).
    spec: Mapped[dict[str, Any]]
    vpc_id: Mapped[str] = mapped_column(String(32))
    subnet_id: Mapped[str] = mapped_column(String(32))
    ip: Mapped[str] = mapped_column(String(64))
    network_interface_id: Mapped[str] = mapped_column(String(32))
    security_group_ids: Mapped[list[Any]]
    # Secondary private addresses of the primary interface (their rows are in ip_allocations).
    secondary_ips: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]]
    charge_mode: Mapped[str] = mapped_column(String(32))
    charge_start: Mapped[datetime]
    charge_expires: Mapped[datetime | None]
    desired: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(16), index=True)
    phase_reason: Mapped[str | None] = mapped_column(String(64))
    phase_message: Mapped[str | None] = mapped_column(Text)
    conditions: Mapped[list[Any]]
    start_time: Mapped[datetime | None]
    mac_address: Mapped[str | None] = mapped_column(String(32))
    # generation grows with every change of what runs (rebuild, resize); the
    # reconciler records the generation it made real in the runtime.
    generation: Mapped[int] = mapped_column(Integer, default=1)
    materialized_generation: Mapped[int | None] = mapped_column(Integer)
    # Grows with every user action; the reconciler writes a phase only if it is unchanged
    # since it read the pod, so it never overwrites a newer intent with a stale one.
    intent_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Grows with every change of the pod's row or of its containers' rows, by the database's
    # own triggers (migration 0009), never by podyard's code: the API's reads keep a record
    # by (pod, revision) and so know an unchanged pod without reading all of it.
    revision: Mapped[int] = mapped_column(Integer, server_default="0")

    containers: Mapped[list[PodContainer]] = relationship(
        back_populates="pod", order_by="PodContainer.position", cascade="all, delete-orphan", lazy="selectin"
    )


class PodContainer(Base):
    __tablename__ = "pod_containers"

    pod_id: Mapped[str] = mapped_column(ForeignKey("pods.pod_id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    status: Mapped[dict[str, Any]]

    pod: Mapped[Pod] = relationship(back_populates="containers")


class IpAllocation(Base):
    """One row per address in use: the primary key makes an address unique in its subnet."""

    __tablename__ = "ip_allocations"

    subnet_id: Mapped[str] = mapped_column(ForeignKey("subnets.subnet_id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    pod_id: Mapped[str] = mapped_column(String(32), index=True)
    # The address as a number: the search for free addresses is an index walk, in SQL.
    number: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_ip_allocations_number", "subnet_id", "number", unique=True),)


class Secret(Base):
    """A registry secret; its data is sealed (authenticated encryption, see store/crypto.py)."""

    __tablename__ = "secrets"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    secret_type: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class ClientToken(Base):
    """createPods idempotency: the token, a hash of the request, and what it created."""

    __tablename__ = "client_tokens"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.account_id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    pod_ids: Mapped[list[Any]]
    created_at: Mapped[datetime]
