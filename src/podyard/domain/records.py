"""What the store hands to services, the reconciler and the views: plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from podyard.domain.billing import Charge
from podyard.domain.network import runtime_network_name
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

    @property
    def runtime_network(self) -> str:
        return runtime_network_name(self.subnet_id)


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
