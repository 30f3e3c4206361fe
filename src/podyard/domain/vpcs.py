"""Rules of VPCs, subnets and network interfaces: names, address ranges, filters, paging.

Every VPC is its own network, so two VPCs (of one account or two) may use the same
range; only the subnets of one VPC must not overlap.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podyard.domain.errors import InvalidArgument

# The docs: Chinese, digits, letters, '_' and '-', 1 to 32 characters.
NAME = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,32}")
DESCRIPTION_MAX = 256
PREFIX_MIN, PREFIX_MAX = 16, 28
PRIVATE_RANGES = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# A dotted quad and a prefix length: no netmask form, no bare address, no spaces.
_CIDR_SHAPE = re.compile(r"\d{1,3}(\.\d{1,3}){3}/\d{1,2}")


def name_error(value: str) -> str | None:
    if not NAME.fullmatch(value):
        return "must be 1-32 characters of Chinese, letters, digits, '_' and '-'"
    return None


def cidr_error(value: str) -> str | None:
    """An address range a VPC or subnet may have: a private IPv4 network, /16 to /28."""
    if not _CIDR_SHAPE.fullmatch(value):
        return f"{value!r} is not an IPv4 CIDR such as 10.0.0.0/16"
    try:
        net = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return f"{value!r} is not an IPv4 CIDR such as 10.0.0.0/16"
    if str(net) != value:
        return f"{value} has host bits set; the network is {net}"
    if not PREFIX_MIN <= net.prefixlen <= PREFIX_MAX:
        return f"the prefix length of {value} must be between {PREFIX_MIN} and {PREFIX_MAX}"
    if not any(net.subnet_of(r) for r in PRIVATE_RANGES):
        return f"{value} must lie in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"
    return None


def subnet_placement_error(
    cidr: str, vpc_id: str, vpc_cidr: str | None, siblings: Iterable[tuple[str, str]]
) -> str | None:
    """A new subnet lies in its VPC's range (if the VPC has one) and overlaps none of
    the VPC's other subnets (``siblings``: id and range)."""
    net = ipaddress.IPv4Network(cidr)
    if vpc_cidr and not net.subnet_of(ipaddress.IPv4Network(vpc_cidr)):
        return f"{cidr} is not inside the range {vpc_cidr} of {vpc_id}"
    for other_id, other in siblings:
        if net.overlaps(ipaddress.IPv4Network(other)):
            return f"{cidr} overlaps subnet {other_id} ({other}) of {vpc_id}"
    return None


def address_range(cidr: str) -> tuple[str, str]:
    """A subnet's first and last address (startIp, endIp): the first one is the network
    address, the gateway follows it."""
    net = ipaddress.IPv4Network(cidr)
    return str(net.network_address), str(net.broadcast_address)


def available_ip_count(cidr: str, used: int) -> int:
    """Addresses a subnet can still give: all but the network, gateway and broadcast
    addresses (never assigned: network.pod_address_error) and those in use."""
    return max(0, ipaddress.IPv4Network(cidr).num_addresses - 3 - used)


def last_page(number: int, size: int, total: int) -> int:
    """The docs: a page number past the last page shows the last page."""
    pages = max(1, -(-total // size))
    return min(number, pages)


@dataclass(frozen=True)
class VpcFilter:
    vpc_ids: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None
    nothing: bool = False  # a filter no podyard VPC can match (an edge zone)


@dataclass(frozen=True)
class SubnetFilter:
    subnet_ids: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None
    vpc_id: str | None = None
    nothing: bool = False  # a route table, ACL, HPC cluster or edge zone: podyard has none


@dataclass(frozen=True)
class InterfaceFilter:
    interface_ids: tuple[str, ...] | None = None
    names: tuple[str, ...] | None = None
    vpc_id: str | None = None
    subnet_id: str | None = None
    nothing: bool = False  # a secondary or managed role, an edge zone: podyard has none


# Per filter: does it take several values?
VPC_FILTERS = {"vpcIds": True, "vpcNames": True, "azType": False}
SUBNET_FILTERS = {
    "subnetIds": True,
    "subnetNames": True,
    "vpcId": False,
    "routeTableId": False,
    "aclId": False,
    "subnetType": False,
    "azType": False,
    "types": True,
    "hpcClusterIds": True,
}
INTERFACE_FILTERS = {
    "networkInterfaceIds": True,
    "networkInterfaceNames": True,
    "vpcId": False,
    "subnetId": False,
    "role": True,
    "azType": False,
}
# Filters the SDK lists that podyard refuses rather than guess at: its VPCs, subnets and
# interfaces are regional (azType standard, az ""), and JDStack zones do not exist here.
REFUSED_FILTERS = {
    "azs": "podyard's VPCs, subnets and interfaces are regional (azType standard): no az to filter by",
    "resourceTag": "JDStack resource zones are not offered",
    "shareType": "JDStack sharing is not offered",
}


def filter_values(filters: Sequence[Any] | None, known: Mapping[str, bool]) -> dict[str, tuple[str, ...]]:
    """The filters as name → values, each checked against ``known`` (name → takes several)."""
    out: dict[str, tuple[str, ...]] = {}
    for i, f in enumerate(filters or []):
        if f.name in REFUSED_FILTERS:
            raise InvalidArgument(f"filters[{i}].name: {f.name}: {REFUSED_FILTERS[f.name]}")
        if f.name not in known:
            raise InvalidArgument(f"filters[{i}].name: unknown filter {f.name!r}; the filters are {', '.join(known)}")
        if f.operator not in (None, "eq", "in"):
            raise InvalidArgument(f"filters[{i}].operator: {f.operator!r} is not supported; use eq")
        if not known[f.name] and len(f.values) != 1:
            raise InvalidArgument(f"filters[{i}].values: filter {f.name} takes exactly one value")
        if f.name in out:
            raise InvalidArgument(f"filters[{i}].name: filter {f.name} is given twice")
        out[f.name] = tuple(f.values)
    return out


def _choice(values: dict[str, tuple[str, ...]], name: str, allowed: Sequence[str], matching: Sequence[str]) -> bool:
    """Whether an enumerated filter (azType, subnetType, types, role) lets podyard's
    resources through: its values are checked against ``allowed``."""
    given = values.get(name)
    if given is None:
        return True
    for v in given:
        if v not in allowed:
            raise InvalidArgument(f"filters: {name} {v!r} is not one of {', '.join(allowed)}")
    return any(v in matching for v in given)


AZ_TYPES = ("all", "standard", "edge")


def vpc_filter(filters: Sequence[Any] | None) -> VpcFilter:
    v = filter_values(filters, VPC_FILTERS)
    passes = _choice(v, "azType", AZ_TYPES, ("all", "standard"))
    return VpcFilter(vpc_ids=v.get("vpcIds"), names=v.get("vpcNames"), nothing=not passes)


def subnet_filter(filters: Sequence[Any] | None) -> SubnetFilter:
    v = filter_values(filters, SUBNET_FILTERS)
    passes = (
        _choice(v, "subnetType", AZ_TYPES, ("all", "standard"))
        and _choice(v, "azType", AZ_TYPES, ("all", "standard"))
        and _choice(v, "types", ("all", "normal", "hpc"), ("all", "normal"))
        and not any(k in v for k in ("routeTableId", "aclId", "hpcClusterIds"))
    )
    vpc_id = v.get("vpcId")
    return SubnetFilter(
        subnet_ids=v.get("subnetIds"),
        names=v.get("subnetNames"),
        vpc_id=vpc_id[0] if vpc_id else None,
        nothing=not passes,
    )


def interface_filter(filters: Sequence[Any] | None) -> InterfaceFilter:
    v = filter_values(filters, INTERFACE_FILTERS)
    passes = _choice(v, "role", ("Primary", "Secondary", "Managed"), ("Primary",)) and _choice(
        v, "azType", AZ_TYPES, ("all", "standard")
    )
    vpc_id, subnet_id = v.get("vpcId"), v.get("subnetId")
    return InterfaceFilter(
        interface_ids=v.get("networkInterfaceIds"),
        names=v.get("networkInterfaceNames"),
        vpc_id=vpc_id[0] if vpc_id else None,
        subnet_id=subnet_id[0] if subnet_id else None,
        nothing=not passes,
    )
