"""What the store hands to services, the reconciler and the views: plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podyard.domain.billing import Charge
from podyard.domain.status import Condition, ContainerStatus


@dataclass(frozen=True)
class AccountRecord:
    account_id: str
    name: str
    access_key: str
    secret_key: str
    verified: bool
    in_arrears: bool


@dataclass(frozen=True)
class NetworkRecord:
    """An account's VPC, subnet and security group in a region."""

    vpc_id: str
    subnet_id: str
    subnet_cidr: str
    security_group_id: str


@dataclass(frozen=True)
class SubnetRecord:
    subnet_id: str
    vpc_id: str
    cidr: str
    account_id: str
    region: str


@dataclass(frozen=True)
class ContainerRecord:
    name: str
    spec: dict[str, Any]
    status: ContainerStatus


@dataclass(frozen=True)
class PodRecord:
    pod_id: str
    account_id: str
    region: str
    name: str
    description: str | None
    az: str
    hostname: str
    instance_type: str
    restart_policy: str
    grace_seconds: int
    spec: dict[str, Any]
    vpc_id: str
    subnet_id: str
    ip: str
    network_interface_id: str
    security_groups: tuple[tuple[str, str], ...]
    tags: tuple[tuple[str, str | None], ...]
    charge: Charge
    desired: str
    phase: str
    reason: str | None
    message: str | None
    conditions: tuple[Condition, ...]
    start_time: datetime | None
    mac_address: str | None
    generation: int
    materialized_generation: int | None
    intent_version: int
    created_at: datetime
    containers: tuple[ContainerRecord, ...]
    # The elastic IP on the primary interface's primary IP: (its id, its address).
    elastic_ip: tuple[str, str] | None = None
    secondary_ips: tuple[str, ...] = ()  # more addresses of the primary interface


@dataclass(frozen=True)
class SecurityGroupRuleRecord:
    rule_id: str
    direction: int
    protocol: int
    address_prefix: str
    from_port: int
    to_port: int
    priority: int
    description: str | None
    created_at: datetime


@dataclass(frozen=True)
class SecurityGroupRecord:
    security_group_id: str
    account_id: str
    region: str
    vpc_id: str
    name: str
    description: str | None
    is_default: bool  # made with the account's default VPC: neither deleted nor renamed
    created_at: datetime
    rules: tuple[SecurityGroupRuleRecord, ...]
    network_interface_ids: tuple[str, ...]  # the pods' interfaces that carry the group


@dataclass(frozen=True)
class ElasticIpRecord:
    elastic_ip_id: str
    account_id: str
    region: str
    name: str | None
    address: str
    bandwidth_mbps: int
    provider: str
    tags: tuple[tuple[str, str | None], ...]
    charge: Charge
    created_at: datetime
    # The association: the pod, its primary interface and primary IP (all None when free).
    pod_id: str | None = None
    network_interface_id: str | None = None
    private_ip: str | None = None


@dataclass(frozen=True)
class SubnetDetailRecord:
    """A subnet as the VPC service describes it."""

    subnet_id: str
    vpc_id: str
    account_id: str
    region: str
    name: str
    cidr: str
    description: str | None
    created_at: datetime
    used_addresses: int  # rows in ip_allocations: pods' primary and secondary IPs
    is_default: bool  # the account's default subnet (a block of the host pool)


@dataclass(frozen=True)
class VpcRecord:
    vpc_id: str
    account_id: str
    region: str
    name: str
    cidr: str | None  # None: no range, subnets anywhere in the private ranges
    description: str | None
    created_at: datetime
    subnets: tuple[SubnetDetailRecord, ...]

    @property
    def is_default(self) -> bool:
        return any(s.is_default for s in self.subnets)


@dataclass(frozen=True)
class NetworkInterfaceRecord:
    """A pod's primary network interface."""

    network_interface_id: str
    name: str | None
    description: str | None
    pod_id: str
    account_id: str
    region: str
    vpc_id: str
    subnet_id: str
    primary_ip: str
    secondary_ips: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    mac_address: str | None
    sanity_check: int
    elastic_ip: tuple[str, str] | None  # (its id, its address) on the primary IP
    created_at: datetime


@dataclass(frozen=True)
class DiskRecord:
    """A cloud disk. ``pod_id``: the pod it is attached to (one at a time), mounted there
    as the volume ``volume_name``; ``fs_type``: the filesystem it holds (or will, once
    made); ``format_pending``: control makes a new filesystem before the next mount."""

    disk_id: str
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
    pod_id: str | None
    volume_name: str | None
    attached_at: datetime | None
    auto_delete: bool
    format_pending: bool
    charge: Charge
    tags: tuple[tuple[str, str | None], ...]
    created_at: datetime


@dataclass(frozen=True)
class SnapshotRecord:
    snapshot_id: str
    account_id: str
    region: str
    disk_id: str
    name: str
    description: str | None
    size_gb: int
    fs_type: str
    status: str
    created_at: datetime
