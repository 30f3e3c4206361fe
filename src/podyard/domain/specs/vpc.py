"""Request bodies and query parameters of the VPC service's VPC, subnet, network
interface and quota actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from podyard.domain import vpcs
from podyard.domain.quotas import VpcResource
from podyard.domain.specs.actions import PageQuery
from podyard.domain.specs.wire import Flag, WireModel, _checked

ResourceName = Annotated[str, AfterValidator(_checked(vpcs.name_error))]
Cidr = Annotated[str, AfterValidator(_checked(vpcs.cidr_error))]
Description = Annotated[str, Field(max_length=vpcs.DESCRIPTION_MAX)]

_NO_TAGS = "tags are not offered on VPC resources"
_NO_RESOURCE_GROUPS = "resource groups are not offered"


def _no_range(v: Any) -> Any:
    """createVpc: an empty addressPrefix means a VPC without a range, as null does."""
    return None if v == "" else v


def _reserved_mask(v: int | None) -> int | None:
    if v not in (None, 0):
        raise ValueError("only 0 is supported: every address of a subnet is assigned one by one")
    return v


class CreateVpcRequest(WireModel):
    unsupported = {
        "user_tags": _NO_TAGS,
        "resource_group_id": _NO_RESOURCE_GROUPS,
        "resource_tag": "JDStack resource zones are not offered",
    }

    vpc_name: ResourceName
    address_prefix: Annotated[Cidr | None, BeforeValidator(_no_range)] = None
    description: Description | None = None
    user_tags: list[Any] | None = None
    resource_group_id: str | None = None
    resource_tag: str | None = None


class ModifyVpcRequest(WireModel):
    unsupported = {"enable_ipv6_sub_ids": "IPv6 is not offered"}

    vpc_name: ResourceName | None = None
    description: Description | None = None
    enable_ipv6_sub_ids: list[str] | None = None
    # The SDK: only "" is accepted here, and it lifts the VPC's range.
    address_prefix: Literal[""] | None = None


class CreateSubnetRequest(WireModel):
    unsupported = {
        "route_table_id": "route tables are not offered",
        "domain_names": "DHCP options are not offered",
        "domain_name_servers": "DHCP options are not offered: give a pod its nameservers in its dnsConfig",
        "eip_prior_exclude_dest_cidrs": "elastic IP priority routing is not offered",
        "user_tags": _NO_TAGS,
        "resource_group_id": _NO_RESOURCE_GROUPS,
        "hpc_cluster_id": "HPC subnets are not offered",
    }

    vpc_id: Annotated[str, Field(min_length=1)]
    subnet_name: ResourceName
    address_prefix: Cidr
    route_table_id: str | None = None
    description: Description | None = None
    ip_mask_len: Annotated[int | None, AfterValidator(_reserved_mask)] = None
    domain_names: list[str] | None = None
    domain_name_servers: list[str] | None = None
    eip_prior_exclude_dest_cidrs: list[str] | None = None
    dry_run: Flag | None = None
    user_tags: list[Any] | None = None
    resource_group_id: str | None = None
    type: Literal["normal"] | None = None
    hpc_cluster_id: str | None = None


class ModifySubnetRequest(WireModel):
    unsupported = {
        "domain_names": "DHCP options are not offered",
        "domain_name_servers": "DHCP options are not offered: give a pod its nameservers in its dnsConfig",
        "eip_prior_exclude_dest_cidrs": "elastic IP priority routing is not offered",
    }

    subnet_name: ResourceName | None = None
    description: Description | None = None
    ip_mask_len: Annotated[int | None, AfterValidator(_reserved_mask)] = None
    domain_names: list[str] | None = None
    domain_name_servers: list[str] | None = None
    eip_prior_exclude_dest_cidrs: list[str] | None = None


class VpcListQuery(PageQuery):
    """describeVpcs, describeSubnets, describeNetworkInterfaces: a page and filters."""

    unsupported = {"tags": _NO_TAGS, "resource_group_ids": _NO_RESOURCE_GROUPS}

    tags: list[Any] | None = None
    resource_group_ids: list[str] | None = None


# The types the SDK lists for describeQuota that podyard has nothing of.
OTHER_QUOTA_TYPES = (
    "ipAddressPool vpcpeering network_interface acl aclRule routeTable staticRoute propagatedRoute "
    "network_interface_cidr bwpByUsage bandwidthPackageIp natGateway vpcNatGateway natGatewayFip "
    "natGatewaySnat natGatewayDnat natGatewayNatIpCidr natGatewayNatIp trafficMirrorSession "
    "trafficMirrorFilter trafficMirrorFilterRule trafficMirrorSource haVip haVipBinding prefixList "
    "secondaryIp eniIpv6Address ipv6PublicAddress eipPriorExcludeDestCidr portIpv6ip"
).split()


# What each served type is counted in: None per account and region, else the parent's kind.
QUOTA_PARENTS: dict[VpcResource, str | None] = {
    VpcResource.VPC: None,
    VpcResource.ELASTIC_IP: None,
    VpcResource.SUBNET: "vpc",
    VpcResource.SECURITY_GROUP: "vpc",
    VpcResource.SECURITY_GROUP_RULE: "security group",
}


class DescribeVpcQuotaQuery(WireModel):
    type: str
    parent_resource_id: Annotated[str, Field(min_length=1)] | None = None

    @field_validator("type")
    @classmethod
    def _served(cls, v: str) -> str:
        served = ", ".join(VpcResource)
        if v in OTHER_QUOTA_TYPES:
            raise ValueError(f"podyard offers no {v} and counts only {served}")
        if v not in set(VpcResource):
            raise ValueError(f"unknown resource type {v!r}; podyard counts {served}")
        return v

    @model_validator(mode="after")
    def _parent(self) -> DescribeVpcQuotaQuery:
        parent = QUOTA_PARENTS[VpcResource(self.type)]
        if parent is None and self.parent_resource_id is not None:
            raise ValueError(f"parentResourceId: type {self.type} is counted per account; leave it out")
        if parent is not None and self.parent_resource_id is None:
            raise ValueError(f"parentResourceId: is required for type {self.type} (the {parent} id)")
        return self
