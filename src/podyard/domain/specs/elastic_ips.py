"""Request bodies and queries of the elastic IP actions: the VPC service's create and
describe, and the pod service's associate and disassociate."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from podyard.domain import elastic_ips
from podyard.domain.billing import POSTPAID
from podyard.domain.errors import InvalidArgument
from podyard.domain.specs.actions import MAX_COUNT, PageQuery, TagFilterSpec
from podyard.domain.specs.pod import TagSpec
from podyard.domain.specs.vpc import ResourceName
from podyard.domain.specs.wire import IPv4, WireModel
from podyard.domain.vpcs import filter_values

USAGE = "postpaid_by_usage"
PREPAID = "prepaid_by_duration"


class ElasticIpChargeSpec(WireModel):
    unsupported = {
        "charge_unit": "prepaid elastic IPs are not offered",
        "charge_duration": "prepaid elastic IPs are not offered",
        "auto_renew": "prepaid elastic IPs are not offered",
        "auto_change_charge_mode": "charge modes are not changed automatically",
        "auto_change_charge_mode_date": "charge modes are not changed automatically",
        "buy_scenario": "buy scenarios are not offered",
    }

    charge_mode: Literal["postpaid_by_duration", "postpaid_by_usage", "prepaid_by_duration"] | None = None
    charge_unit: str | None = None
    charge_duration: int | None = None
    auto_renew: bool | None = None
    auto_change_charge_mode: bool | None = None
    auto_change_charge_mode_date: str | None = None
    buy_scenario: str | None = None

    @model_validator(mode="after")
    def _postpaid(self) -> ElasticIpChargeSpec:
        if self.charge_mode == PREPAID:
            raise ValueError("chargeMode: prepaid elastic IPs are not offered; use postpaid_by_duration or usage")
        return self


class VpcElasticIpSpec(WireModel):
    """createElasticIps' elasticIpSpec: the provider is required (the SDK's constructor)."""

    bandwidth_mbps: Annotated[int, Field(ge=elastic_ips.BANDWIDTH_MIN, le=elastic_ips.VPC_BANDWIDTH_MAX)]
    provider: Annotated[str, Field(min_length=1)]
    charge_spec: ElasticIpChargeSpec | None = None

    def charge_mode(self) -> str:
        return (self.charge_spec.charge_mode if self.charge_spec else None) or POSTPAID


class CreateElasticIpsRequest(WireModel):
    unsupported = {
        "elastic_ip_pool_id": "this podyard has one elastic IP pool, set by its operator",
        "resource_group_id": "resource groups are not offered",
        "resource_tag": "resource tags are not offered",
        "dry_run": "dry runs are not offered",
    }

    max_count: Annotated[int, Field(ge=1, le=MAX_COUNT)]
    elastic_ip_name: ResourceName | None = None
    elastic_ip_address: IPv4 | None = None
    elastic_ip_pool_id: str | None = None
    elastic_ip_spec: VpcElasticIpSpec
    user_tags: Annotated[list[TagSpec], Field(max_length=10)] | None = None
    ip_type: Literal["standard", "edge"] | None = None
    resource_group_id: str | None = None
    resource_tag: str | None = None
    dry_run: bool | None = None

    @model_validator(mode="after")
    def _rules(self) -> CreateElasticIpsRequest:
        if self.elastic_ip_address and self.max_count != 1:
            raise ValueError("maxCount must be 1 when elasticIpAddress is given")
        if self.ip_type == "edge":
            raise ValueError("ipType: edge elastic IPs are not offered; use standard")
        return self


# describeElasticIps' filters: name → whether it takes several values.
ELASTIC_IP_FILTERS = {
    "elasticIpIds": True,
    "elasticIpNames": True,
    "elasticIpAddress": False,
    "elasticIpPoolId": False,
    "chargeStatus": False,
    "ipType": False,
    "bandwidthPackageId": False,
    "status": False,
    "providers": True,
}
CHARGE_STATUSES = ("normal", "overdue", "arrear")
IP_TYPES = ("all", "standard", "edge")
STATUSES = ("ASSOCIATED", "NOT_ASSOCIATED", "ALL")


class DescribeElasticIpsQuery(PageQuery):
    unsupported = {"resource_group_ids": "resource groups are not offered"}

    tags: list[TagFilterSpec] | None = None
    resource_group_ids: list[str] | None = None

    def filter_map(self) -> dict[str, tuple[str, ...]]:
        found = filter_values(self.filters, ELASTIC_IP_FILTERS)
        for name, allowed in (("chargeStatus", CHARGE_STATUSES), ("ipType", IP_TYPES), ("status", STATUSES)):
            for v in found.get(name, ()):
                if v not in allowed:
                    raise InvalidArgument(f"filters: {name} is one of {', '.join(allowed)}, not {v!r}")
        return found


class ModifyElasticIpRequest(WireModel):
    unsupported = {"temp_upgrade_end_time": "prepaid elastic IPs are not offered, so neither are temporary upgrades"}

    bandwidth_mbps: Annotated[int, Field(ge=elastic_ips.BANDWIDTH_MIN, le=elastic_ips.VPC_BANDWIDTH_MAX)] | None = None
    temp_upgrade_end_time: str | None = None
    elastic_ip_name: ResourceName | None = None


class AssociateElasticIpRequest(WireModel):
    elastic_ip_id: Annotated[str, Field(min_length=1)]


class DisassociateElasticIpRequest(WireModel):
    elastic_ip_id: Annotated[str, Field(min_length=1)]
