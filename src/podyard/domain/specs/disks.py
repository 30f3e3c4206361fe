"""Request bodies and queries of the disk service: createDisks, describeDisks,
createSnapshot, describeSnapshots and describeQuota (the SDK's ``jdcloud_sdk.services.disk``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from podyard.domain import disks
from podyard.domain.errors import InvalidArgument
from podyard.domain.quotas import DiskResource
from podyard.domain.specs.actions import CLIENT_TOKEN_MAX, MAX_COUNT, PageQuery, TagFilterSpec
from podyard.domain.specs.pod import Description, DiskName, TagSpec
from podyard.domain.specs.wire import Flag, WireModel, field_error
from podyard.domain.vpcs import filter_values

_PREPAID = "prepaid disks are not offered"
_NO_RESOURCE_GROUPS = "resource groups are not offered"


def _ascii(v: str) -> str:
    if not v.isascii():
        raise ValueError(f"must be 1-{CLIENT_TOKEN_MAX} ASCII characters")
    return v


# Required by the SDK for createDisks and createSnapshot: the same token with the same
# request gives the same answer and makes nothing new.
ClientToken = Annotated[str, Field(min_length=1, max_length=CLIENT_TOKEN_MAX), AfterValidator(_ascii)]


class DiskChargeSpec(WireModel):
    """Disks are billed by configuration (postpaid_by_duration), the docs' default."""

    unsupported = {
        "charge_unit": _PREPAID,
        "charge_duration": _PREPAID,
        "auto_renew": _PREPAID,
        "auto_change_charge_mode": "charge modes are not changed automatically",
        "auto_change_charge_mode_date": "charge modes are not changed automatically",
        "buy_scenario": "buy scenarios are not offered",
    }

    charge_mode: Literal["postpaid_by_duration", "postpaid_by_usage", "prepaid_by_duration"] | None = None
    charge_unit: str | None = None
    charge_duration: int | None = None
    auto_renew: Flag | None = None
    auto_change_charge_mode: Flag | None = None
    auto_change_charge_mode_date: str | None = None
    buy_scenario: str | None = None

    @model_validator(mode="after")
    def _by_configuration(self) -> DiskChargeSpec:
        if self.charge_mode == "prepaid_by_duration":
            raise field_error("chargeMode", f"{_PREPAID}; use postpaid_by_duration")
        if self.charge_mode == "postpaid_by_usage":
            raise field_error("chargeMode", "disks are billed by configuration: use postpaid_by_duration")
        return self


class DiskSpec(WireModel):
    """createDisks' diskSpec. ``snapshotId``: the disk is a copy of the account's
    snapshot, ``diskSizeGB`` at least its size (checked by services/)."""

    unsupported = {
        "policy_id": "snapshot policies are not offered",
        "encrypt": "encrypted disks are not offered",
    }

    az: Annotated[str, Field(min_length=1)]
    name: DiskName
    description: Description | None = None
    disk_type: str
    disk_size_gb: int = Field(alias="diskSizeGB")
    iops: int | None = None
    snapshot_id: Annotated[str, Field(min_length=1)] | None = None
    policy_id: str | None = None
    charge: DiskChargeSpec | None = None
    multi_attachable: Flag | None = None
    encrypt: Flag | None = None

    @field_validator("disk_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        error = disks.type_error(v, disks.DISK_SERVICE_RULES)
        if error:
            raise ValueError(error)
        return v

    @model_validator(mode="after")
    def _rules(self) -> DiskSpec:
        error = disks.size_error(self.disk_type, self.disk_size_gb, disks.DISK_SERVICE_RULES, "diskSizeGB")
        if error:
            raise field_error("diskSizeGB", error)
        error = disks.iops_error(self.disk_type, self.disk_size_gb, self.iops)
        if error:
            raise field_error("iops", error)
        if self.multi_attachable:
            raise field_error("multiAttachable", "a disk is attached to one pod at a time: only false is offered")
        return self


class CreateDisksRequest(WireModel):
    unsupported = {"resource_group_id": _NO_RESOURCE_GROUPS}

    disk_spec: DiskSpec
    max_count: Annotated[int, Field(ge=1, le=MAX_COUNT)]
    client_token: ClientToken
    user_tags: Annotated[list[TagSpec], Field(max_length=10)] | None = None
    resource_group_id: str | None = None

    @model_validator(mode="after")
    def _names(self) -> CreateDisksRequest:
        keys = [t.key for t in self.user_tags or []]
        if len(set(keys)) != len(keys):
            raise field_error("userTags", "a tag key is given twice; a disk has one value per key")
        last = disks.batch_names(self.disk_spec.name, self.max_count)[-1]
        if disks.name_error(last):
            raise ValueError(
                f"diskSpec.name: with maxCount {self.max_count} the disks are named {last!r} and so on, "
                f"past {disks.NAME_MAX} characters; give a shorter name"
            )
        return self

    def names(self) -> list[str]:
        return disks.batch_names(self.disk_spec.name, self.max_count)


# describeDisks' filters: name → whether it takes several values (the SDK's list).
DISK_FILTERS = {
    "diskId": True,
    "diskType": True,
    "instanceId": True,
    "instanceType": True,
    "status": True,
    "az": True,
    "name": False,
    "multiAttach": False,
    "encrypted": False,
    "policyId": True,
    "notPolicyId": True,
}
_BOOLEANS = ("true", "false")


class DescribeDisksQuery(PageQuery):
    unsupported = {
        "orders": "disks are listed oldest first; other orders are not offered",
        "resource_group_ids": _NO_RESOURCE_GROUPS,
    }

    tags: list[TagFilterSpec] | None = None
    orders: list[dict[str, str]] | None = None
    resource_group_ids: list[str] | None = None

    def filter_map(self) -> dict[str, tuple[str, ...]]:
        found = filter_values(self.filters, DISK_FILTERS)
        checks: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("diskType", tuple(disks.DISK_SERVICE_RULES)),
            ("status", disks.DISK_STATUSES),
            ("multiAttach", _BOOLEANS),
            ("encrypted", _BOOLEANS),
        )
        for name, allowed in checks:
            for v in found.get(name, ()):
                if v not in allowed:
                    raise InvalidArgument(f"filters: {name} is one of {', '.join(allowed)}, not {v!r}")
        return found


class SnapshotSpec(WireModel):
    name: DiskName
    description: Description | None = None
    disk_id: Annotated[str, Field(min_length=1)]


class CreateSnapshotRequest(WireModel):
    snapshot_spec: SnapshotSpec
    client_token: ClientToken


SNAPSHOT_FILTERS = {"snapshotId": True, "diskId": True, "status": True, "name": False}


class DescribeSnapshotsQuery(PageQuery):
    # private: the account's own; others and shared: snapshots shared with it (none here).
    snapshot_source: Literal["private", "others", "shared"] | None = None

    def filter_map(self) -> dict[str, tuple[str, ...]]:
        found = filter_values(self.filters, SNAPSHOT_FILTERS)
        for v in found.get("status", ()):
            if v not in disks.SNAPSHOT_STATUSES:
                raise InvalidArgument(f"filters: status is one of {', '.join(disks.SNAPSHOT_STATUSES)}, not {v!r}")
        return found


class DescribeDiskQuotaQuery(WireModel):
    type: str

    @field_validator("type")
    @classmethod
    def _served(cls, v: str) -> str:
        served = ", ".join(DiskResource)
        if v == "snapshot_policy":
            raise ValueError(f"podyard offers no snapshot policies and counts only {served}")
        if v not in set(DiskResource):
            raise ValueError(f"unknown resource type {v!r}; podyard counts {served}")
        return v


class DeleteDiskQuery(WireModel):
    unsupported = {"put_in_recycle_bin": "the recycle bin is not offered: a deleted disk is gone"}

    put_in_recycle_bin: Flag | None = None
