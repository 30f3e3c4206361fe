"""Arbitrary JSON where the VPC SDK would put each parameter: never a 5xx, and a refused
request changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drive.jd import JdError
from tests.api.test_fuzz import json_values
from tests.api.test_vpc_api import vpc_client

VPC_FIELDS = ["vpcName", "addressPrefix", "description", "userTags", "resourceGroupId", "surprise"]
SUBNET_FIELDS = ["vpcId", "subnetName", "addressPrefix", "description", "ipMaskLen", "dryRun", "type", "routeTableId"]
cidrs = st.builds(
    lambda a, b, c, d, n: f"{a}.{b}.{c}.{d}/{n}",
    st.sampled_from([10, 172, 192, 8, 300]),
    st.integers(0, 260),
    st.integers(0, 255),
    st.integers(0, 255),
    st.integers(0, 33),
)


def _counts(vpc: Any) -> tuple[int, int]:
    return vpc.call("describeVpcs")["totalCount"], vpc.call("describeSubnets")["totalCount"]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(["createVpc", "createSubnet"]),
    field=st.sampled_from(sorted({*VPC_FIELDS, *SUBNET_FIELDS})),
    value=json_values | cidrs,
)
def test_creates_never_fail_inside(fake_server: Any, action: str, field: str, value: Any) -> None:
    vpc = vpc_client(fake_server)
    base: dict[str, Any] = {"vpcName": "v", "addressPrefix": "10.0.0.0/16"}
    if action == "createSubnet":
        base = {"vpcId": fake_server.admin.vpc_id, "subnetName": "s", "addressPrefix": "10.9.0.0/24"}
    before = _counts(vpc)
    try:
        vpc.raw(action, {**base, field: value})
    except JdError as e:
        assert 400 <= e.code < 500, e
        assert _counts(vpc) == before


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(["describeVpcs", "describeSubnets", "describeNetworkInterfaces", "describeQuota"]),
    params=st.dictionaries(
        st.sampled_from(["pageNumber", "pageSize", "type", "parentResourceId", "tags"]),
        st.text(max_size=12) | st.integers(-5, 200),
        max_size=3,
    ),
    filters=st.lists(
        st.fixed_dictionaries(
            {
                "name": st.sampled_from(["vpcIds", "vpcId", "subnetNames", "role", "azType", "types", "azs", "x"]),
                "values": st.lists(st.text(max_size=8), max_size=3),
            }
        ),
        max_size=2,
    ),
)
def test_queries_never_fail_inside(fake_server: Any, action: str, params: dict[str, Any], filters: list[Any]) -> None:
    vpc = vpc_client(fake_server)
    try:
        vpc.raw(action, {**params, "filters": filters or None})
    except JdError as e:
        assert 400 <= e.code < 500, e
