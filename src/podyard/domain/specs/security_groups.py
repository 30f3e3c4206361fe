"""Request bodies and queries of the VPC service's security group actions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from podyard.domain import security_groups as sg
from podyard.domain.specs.actions import PageQuery
from podyard.domain.specs.pod import Description
from podyard.domain.specs.vpc import ResourceName
from podyard.domain.specs.wire import WireModel
from podyard.domain.vpcs import filter_values


def _prefix(v: str | None) -> str | None:
    return None if v is None else sg.address_prefix(v)


def _number(v: Any) -> Any:
    if isinstance(v, bool):  # JSON true is no 1 here
        raise ValueError("must be a number")
    return v


Direction = Annotated[Literal[0, 1], BeforeValidator(_number)]
Protocol = Annotated[Literal[300, 6, 17, 1], BeforeValidator(_number)]
AddressPrefix = Annotated[str, AfterValidator(_prefix)]
Priority = Annotated[int, Field(ge=sg.PRIORITY_MIN, le=sg.PRIORITY_MAX)]
Port = Annotated[int, Field(ge=0, le=sg.PORT_MAX)]  # 0 only where the protocol has no ports


def _no_repeats(what: str) -> Any:
    def check(v: list[str]) -> list[str]:
        dup = next((x for x in v if v.count(x) > 1), None)
        if dup is not None:
            raise ValueError(f"{what} {dup!r} is given more than once")
        return v

    return check


def _ports_error(protocol: int, from_port: int | None, to_port: int | None) -> tuple[int, int]:
    try:
        return sg.ports(protocol, from_port, to_port)
    except ValueError as e:
        field, _, message = str(e).partition(": ")
        raise PydanticCustomError("ports", message, {"field": field}) from None


class CreateNetworkSecurityGroupRequest(WireModel):
    vpc_id: Annotated[str, Field(min_length=1)]
    network_security_group_name: ResourceName
    description: Description | None = None


class ModifyNetworkSecurityGroupRequest(WireModel):
    network_security_group_name: ResourceName | None = None
    description: Description | None = None


class _RuleFields(WireModel):
    """The SDK's fields podyard takes as the only values it has: every rule allows
    (ALLOW) and matches a CIDR."""

    rule_action: Literal["ALLOW"] | None = None
    address_prefix_type: Literal["CIDR"] | None = None

    @field_validator("rule_action", mode="before")
    @classmethod
    def _allow_only(cls, v: Any) -> Any:
        if v == "DENY":
            raise ValueError("DENY rules are not offered: a group allows what its rules say, and nothing else")
        return v

    @field_validator("address_prefix_type", mode="before")
    @classmethod
    def _cidr_only(cls, v: Any) -> Any:
        if v == "PREFIXLIST":
            raise ValueError("prefix lists are not offered; give addressPrefix as a CIDR")
        return v


class AddSecurityGroupRuleSpec(_RuleFields):
    protocol: Protocol
    direction: Direction
    priority: Priority | None = None
    address_prefix: AddressPrefix
    from_port: Port | None = None
    to_port: Port | None = None
    description: Description | None = None

    @model_validator(mode="after")
    def _ports(self) -> AddSecurityGroupRuleSpec:
        _ports_error(self.protocol, self.from_port, self.to_port)
        return self

    def rule(self) -> sg.Rule:
        low, high = sg.ports(self.protocol, self.from_port, self.to_port)
        return sg.Rule(self.direction, self.protocol, self.address_prefix, low, high)


class AddNetworkSecurityGroupRulesRequest(WireModel):
    network_security_group_rule_specs: Annotated[list[AddSecurityGroupRuleSpec], Field(min_length=1)]


class ModifySecurityGroupRuleSpec(_RuleFields):
    """What is left out stays as it is; the ports are checked against the rule's protocol
    once merged with the rule (services/security_groups.py)."""

    rule_id: Annotated[str, Field(min_length=1)]
    protocol: Protocol | None = None
    priority: Priority | None = None
    from_port: Port | None = None
    to_port: Port | None = None
    address_prefix: AddressPrefix | None = None
    description: Description | None = None


def _unique_rule_ids(v: list[ModifySecurityGroupRuleSpec]) -> list[ModifySecurityGroupRuleSpec]:
    _no_repeats("rule")([s.rule_id for s in v])
    return v


class ModifyNetworkSecurityGroupRulesRequest(WireModel):
    modify_security_group_rule_specs: Annotated[
        list[ModifySecurityGroupRuleSpec], Field(min_length=1), AfterValidator(_unique_rule_ids)
    ]


class RemoveNetworkSecurityGroupRulesRequest(WireModel):
    rule_ids: Annotated[
        list[Annotated[str, Field(min_length=1)]], Field(min_length=1), AfterValidator(_no_repeats("rule"))
    ]


# describeNetworkSecurityGroups' filters: name → whether it takes several values.
GROUP_FILTERS = {"networkSecurityGroupIds": True, "networkSecurityGroupNames": True, "vpcId": False}


class DescribeNetworkSecurityGroupsQuery(PageQuery):
    def filter_map(self) -> dict[str, tuple[str, ...]]:
        """Each filter's values, checked against the SDK's list (domain/vpcs.py)."""
        return filter_values(self.filters, GROUP_FILTERS)
