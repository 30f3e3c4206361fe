"""VPC and subnet rules: names, ranges, placement, filters, paging; and their request models."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from podyard.domain import vpcs
from podyard.domain.errors import InvalidArgument
from podyard.domain.specs.vpc import CreateSubnetRequest, CreateVpcRequest, DescribeVpcQuotaQuery, ModifyVpcRequest
from podyard.domain.specs.wire import parse_body, parse_query


@pytest.mark.parametrize("name", ["a", "vpc-1", "my_vpc", "私有网络", "A" * 32, "网络-1_x"])
def test_names_ok(name: str) -> None:
    assert vpcs.name_error(name) is None


@pytest.mark.parametrize("name", ["", "a b", "a.b", "a" * 33, "a\n", "café", "x/y"])
def test_names_bad(name: str) -> None:
    assert vpcs.name_error(name)


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "10.1.2.0/24", "172.16.0.0/16", "172.31.255.240/28", "192.168.0.0/16"])
def test_cidrs_ok(cidr: str) -> None:
    assert vpcs.cidr_error(cidr) is None


@pytest.mark.parametrize(
    ("cidr", "says"),
    [
        ("10.0.0.0", "not an IPv4 CIDR"),
        ("10.0.0.0/255.255.0.0", "not an IPv4 CIDR"),
        ("10.0.0/24", "not an IPv4 CIDR"),
        (" 10.0.0.0/24", "not an IPv4 CIDR"),
        ("300.0.0.0/24", "not an IPv4 CIDR"),
        ("fd00::/64", "not an IPv4 CIDR"),
        ("10.0.1.1/24", "host bits set; the network is 10.0.1.0/24"),
        ("10.0.0.0/8", "between 16 and 28"),
        ("10.0.0.0/15", "between 16 and 28"),
        ("10.0.0.0/29", "between 16 and 28"),
        ("8.8.8.0/24", "must lie in 10.0.0.0/8"),
        ("172.32.0.0/16", "must lie in 10.0.0.0/8"),
    ],
)
def test_cidrs_bad(cidr: str, says: str) -> None:
    error = vpcs.cidr_error(cidr)
    assert error and says in error


def test_subnet_placement() -> None:
    siblings = [("subnet-a", "10.0.1.0/24"), ("subnet-b", "10.0.2.0/25")]
    assert vpcs.subnet_placement_error("10.0.3.0/24", "vpc-x", "10.0.0.0/16", siblings) is None
    assert vpcs.subnet_placement_error("10.0.2.128/25", "vpc-x", "10.0.0.0/16", siblings) is None
    assert vpcs.subnet_placement_error("192.168.0.0/24", "vpc-x", None, siblings) is None
    error = vpcs.subnet_placement_error("10.0.1.128/25", "vpc-x", "10.0.0.0/16", siblings)
    assert error == "10.0.1.128/25 overlaps subnet subnet-a (10.0.1.0/24) of vpc-x"
    error = vpcs.subnet_placement_error("10.0.0.0/16", "vpc-x", "10.0.0.0/16", siblings)
    assert error and "overlaps subnet subnet-a" in error
    error = vpcs.subnet_placement_error("10.1.0.0/24", "vpc-x", "10.0.0.0/16", [])
    assert error == "10.1.0.0/24 is not inside the range 10.0.0.0/16 of vpc-x"


def test_addresses_and_pages() -> None:
    assert vpcs.address_range("10.0.1.0/24") == ("10.0.1.0", "10.0.1.255")
    assert vpcs.available_ip_count("10.0.1.0/24", 0) == 253
    assert vpcs.available_ip_count("10.0.1.0/28", 2) == 11
    assert vpcs.available_ip_count("10.0.1.0/28", 20) == 0
    assert vpcs.last_page(1, 10, 0) == 1
    assert vpcs.last_page(3, 10, 25) == 3
    assert vpcs.last_page(9, 10, 25) == 3
    assert vpcs.last_page(2, 10, 10) == 1


def f(name: str, *values: str, operator: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(name=name, values=list(values), operator=operator)


def test_filters() -> None:
    assert vpcs.vpc_filter(None) == vpcs.VpcFilter()
    assert vpcs.vpc_filter([f("vpcIds", "a", "b"), f("vpcNames", "x")]) == vpcs.VpcFilter(("a", "b"), ("x",))
    assert vpcs.vpc_filter([f("azType", "edge")]).nothing
    assert not vpcs.vpc_filter([f("azType", "standard")]).nothing
    sub = vpcs.subnet_filter([f("vpcId", "vpc-1"), f("subnetNames", "n")])
    assert sub == vpcs.SubnetFilter(names=("n",), vpc_id="vpc-1")
    assert vpcs.subnet_filter([f("routeTableId", "rt-1")]).nothing
    assert vpcs.subnet_filter([f("types", "hpc")]).nothing
    assert not vpcs.subnet_filter([f("types", "hpc", "normal")]).nothing
    nic = vpcs.interface_filter([f("role", "Primary"), f("subnetId", "subnet-1")])
    assert nic == vpcs.InterfaceFilter(subnet_id="subnet-1")
    assert vpcs.interface_filter([f("role", "Secondary")]).nothing


@pytest.mark.parametrize(
    ("filters", "says"),
    [
        ([f("vpcId", "a")], "filters[0].name: unknown filter 'vpcId'; the filters are vpcIds, vpcNames, azType"),
        ([f("azs", "cn-north-1a")], "filters[0].name: azs: podyard's VPCs"),
        ([f("vpcIds", "a"), f("vpcIds", "b")], "filters[1].name: filter vpcIds is given twice"),
        ([f("vpcIds", "a", operator="like")], "filters[0].operator: 'like' is not supported"),
        ([f("azType", "standard", "all")], "filters[0].values: filter azType takes exactly one value"),
        ([f("azType", "moon")], "azType 'moon' is not one of all, standard, edge"),
    ],
)
def test_bad_filters(filters: list[SimpleNamespace], says: str) -> None:
    with pytest.raises(InvalidArgument) as e:
        vpcs.vpc_filter(filters)
    assert says in e.value.message


def test_request_models() -> None:
    assert parse_body(CreateVpcRequest, {"vpcName": "v", "addressPrefix": ""}).address_prefix is None
    assert parse_body(CreateVpcRequest, {"vpcName": "v", "addressPrefix": None}).address_prefix is None
    with pytest.raises(InvalidArgument, match=r"addressPrefix: 10\.0\.0\.1/16 has host bits set"):
        parse_body(CreateVpcRequest, {"vpcName": "v", "addressPrefix": "10.0.0.1/16"})
    with pytest.raises(InvalidArgument, match="description: "):
        parse_body(CreateVpcRequest, {"vpcName": "v", "description": "x" * 257})
    with pytest.raises(InvalidArgument, match="userTags: not supported by podyard yet"):
        parse_body(CreateVpcRequest, {"vpcName": "v", "userTags": [{"key": "a", "value": "b"}]})
    assert parse_body(ModifyVpcRequest, {"addressPrefix": ""}).address_prefix == ""
    with pytest.raises(InvalidArgument, match="addressPrefix"):
        parse_body(ModifyVpcRequest, {"addressPrefix": "10.0.0.0/16"})
    body = {"vpcId": "vpc-1", "subnetName": "s", "addressPrefix": "10.0.0.0/24"}
    assert parse_body(CreateSubnetRequest, {**body, "ipMaskLen": 0, "type": "normal"}).ip_mask_len == 0
    with pytest.raises(InvalidArgument, match="ipMaskLen: only 0 is supported"):
        parse_body(CreateSubnetRequest, {**body, "ipMaskLen": 24})
    with pytest.raises(InvalidArgument, match="routeTableId: not supported"):
        parse_body(CreateSubnetRequest, {**body, "routeTableId": "rt-1"})
    with pytest.raises(InvalidArgument, match="addressPrefix: is required"):
        parse_body(CreateSubnetRequest, {"vpcId": "vpc-1", "subnetName": "s"})


def test_quota_query() -> None:
    assert parse_query(DescribeVpcQuotaQuery, {"type": "vpc"}).parent_resource_id is None
    assert parse_query(DescribeVpcQuotaQuery, {"type": "subnet", "parentResourceId": "vpc-1"}).type == "subnet"
    with pytest.raises(InvalidArgument, match="type: podyard offers no natGateway"):
        parse_query(DescribeVpcQuotaQuery, {"type": "natGateway"})
    with pytest.raises(InvalidArgument, match="type: unknown resource type 'pod'"):
        parse_query(DescribeVpcQuotaQuery, {"type": "pod"})
    with pytest.raises(InvalidArgument, match="parentResourceId: is required for type subnet"):
        parse_query(DescribeVpcQuotaQuery, {"type": "subnet"})
    with pytest.raises(InvalidArgument, match="parentResourceId: type vpc is counted per account"):
        parse_query(DescribeVpcQuotaQuery, {"type": "vpc", "parentResourceId": "vpc-1"})
