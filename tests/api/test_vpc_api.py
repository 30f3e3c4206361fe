"""The VPC service's VPCs, subnets, network interfaces and describeQuota, through the
official SDK's VpcClient against podyard with the fake runtime."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.vpc.models.AddSecurityGroupRules import AddSecurityGroupRules
from jdcloud_sdk.services.vpc.models.ElasticIpSpec import ElasticIpSpec

from drive.jd import REGION, Account, JdError, container, pod_spec
from drive.jdvpc import JdVpc
from podyard.store import accounts as account_store

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def vpc_client(server: Any, account: Account | None = None) -> JdVpc:
    return JdVpc(server.endpoint, account or server.admin)


def refused(code: int, status: str, fn: Any, *args: Any, **kwargs: Any) -> str:
    """Call, expect the JD error, return its message."""
    with pytest.raises(JdError) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.status) == (code, status), e.value
    return e.value.message


def account_id(server: Any, account: Account) -> str:
    with server.app.ctx.db.read() as s:
        found = account_store.by_access_key(s, server.app.ctx.secret_box, account.access_key)
    assert found is not None
    return found.account_id


def set_quota(server: Any, account: Account, kind: str, limit: int) -> None:
    with server.app.ctx.db.write() as s:
        account_store.set_quota(s, account_id(server, account), REGION, kind, limit)


# Security groups, their rules and elastic IPs are the security group and elastic IP
# services' own (tested with them); here they are counted and stand in the way of deletes.
def add_group(vpc: JdVpc, vpc_id: str) -> str:
    return str(vpc.call("createNetworkSecurityGroup", vpc_id, "web")["networkSecurityGroupId"])


def rule_ids(vpc: JdVpc, group_id: str) -> list[str]:
    group = vpc.call("describeNetworkSecurityGroup", group_id)["networkSecurityGroup"]
    return [r["ruleId"] for r in group["securityGroupRules"]]


def add_rules(vpc: JdVpc, group_id: str, n: int) -> list[str]:
    before = set(rule_ids(vpc, group_id))
    specs = [AddSecurityGroupRules(6, 0, f"10.{i}.0.0/16", fromPort=22, toPort=22) for i in range(n)]
    vpc.call("addNetworkSecurityGroupRules", group_id, specs)
    return [r for r in rule_ids(vpc, group_id) if r not in before]


def add_elastic_ips(vpc: JdVpc, n: int) -> list[str]:
    return list(vpc.call("createElasticIps", n, ElasticIpSpec(1, "bgp"))["elasticIpIds"])


def _created(item: dict[str, Any]) -> str:
    return str(item.get("createdTime") or item.get("createTime"))


def by_age(items: list[dict[str, Any]], key: str) -> list[str]:
    """Ids in podyard's order, oldest first, ties by id: for things made through the API
    (whole seconds, as shown). The default network is made with a finer time."""
    return [i[key] for i in sorted(items, key=lambda i: (_created(i), i[key]))]


def oldest_first(items: list[dict[str, Any]], key: str) -> list[str]:
    """The ids as listed, checking they come oldest first."""
    times = [_created(i) for i in items]
    assert times == sorted(times)
    return [i[key] for i in items]


def on_subnet(account: Account, subnet_id: str, group_id: str) -> Account:
    """The account's keys, with pods going to another subnet and group."""
    return dataclasses.replace(account, subnet_id=subnet_id, security_group_id=group_id)


# -- VPCs --


def test_create_and_describe_a_vpc(fake_server) -> None:
    vpc = vpc_client(fake_server)
    before = datetime.now(UTC).replace(microsecond=0)
    vpc_id = vpc.create_vpc("my_vpc-网络", "10.0.0.0/16", description="the back office")
    assert re.fullmatch(r"vpc-[a-z0-9]{10}", vpc_id)
    shown = vpc.vpc(vpc_id)
    assert shown == {
        "vpcId": vpc_id,
        "addressPrefix": "10.0.0.0/16",
        "description": "the back office",
        "vpcName": "my_vpc-网络",
        "aclIds": [],
        "routeTableIds": [],
        "subnets": [],
        "createdTime": shown["createdTime"],
        "vpcPolicyId": None,
        "tags": [],
        "resourceGroupId": None,
    }
    assert TIME.match(shown["createdTime"])
    assert datetime.fromisoformat(shown["createdTime"].replace("Z", "+00:00")) >= before
    # Without a range (null, or "" as the SDK allows): subnets anywhere in the private ranges.
    open_id = vpc.create_vpc("open")
    empty_id = vpc.create_vpc("empty", "")
    assert vpc.vpc(open_id)["addressPrefix"] is None and vpc.vpc(empty_id)["addressPrefix"] is None
    assert vpc.vpc(open_id)["description"] is None
    vpc.create_subnet(open_id, "a", "192.168.3.0/24")
    vpc.create_subnet(open_id, "b", "172.20.0.0/20")
    answer = vpc.call("describeVpcs")
    assert answer["totalCount"] == 4
    assert {v["vpcId"] for v in answer["vpcs"]} == {fake_server.admin.vpc_id, vpc_id, open_id, empty_id}
    ours = [v for v in answer["vpcs"] if v["vpcId"] != fake_server.admin.vpc_id]
    assert [v["vpcId"] for v in ours] == by_age(ours, "vpcId")


def test_the_default_vpc_is_listed_with_its_subnet(fake_server) -> None:
    vpc = vpc_client(fake_server)
    admin = fake_server.admin
    shown = vpc.vpc(admin.vpc_id)
    assert shown["vpcName"] == "default" and shown["addressPrefix"] == admin.subnet_cidr
    [subnet] = shown["subnets"]
    assert subnet["subnetId"] == admin.subnet_id and subnet["addressPrefix"] == admin.subnet_cidr
    assert subnet["availableIpCount"] == 253


def test_vpc_paging_and_filters(fake_server) -> None:
    vpc = vpc_client(fake_server)
    set_quota(fake_server, fake_server.admin, "vpc", 30)
    ids = [vpc.create_vpc(f"v{i}" if i % 2 else "same", "10.0.0.0/16") for i in range(14)]
    everything = oldest_first(vpc.call("describeVpcs", pageSize=100)["vpcs"], "vpcId")
    assert set(everything) == {fake_server.admin.vpc_id, *ids}
    page1 = vpc.call("describeVpcs", pageSize=10)
    assert page1["totalCount"] == 15 and [v["vpcId"] for v in page1["vpcs"]] == everything[:10]
    page2 = vpc.call("describeVpcs", pageNumber=2, pageSize=10)
    assert [v["vpcId"] for v in page2["vpcs"]] == everything[10:]
    # A page past the last one shows the last one (the docs).
    assert vpc.call("describeVpcs", pageNumber=7, pageSize=10)["vpcs"] == page2["vpcs"]
    assert len(vpc.call("describeVpcs")["vpcs"]) == 15  # 20 by default

    def found(*filters: Filter) -> list[str]:
        return [v["vpcId"] for v in vpc.call("describeVpcs", filters=list(filters))["vpcs"]]

    def ordered(chosen: list[str]) -> list[str]:
        return [i for i in everything if i in chosen]

    assert found(Filter("vpcIds", [ids[3], ids[0]])) == ordered([ids[0], ids[3]])
    assert found(Filter("vpcNames", ["same"])) == ordered(ids[0::2])
    assert found(Filter("vpcNames", ["same", "v1"])) == ordered([ids[1], *ids[0::2]])
    assert found(Filter("vpcNames", ["same"]), Filter("vpcIds", [ids[1], ids[2]])) == [ids[2]]
    assert found(Filter("azType", ["edge"])) == []
    assert len(found(Filter("azType", ["standard"]))) == 15
    assert found(Filter("vpcNames", ["nobody"])) == []
    message = refused(400, "INVALID_ARGUMENT", found, Filter("vpcId", ["x"]))
    assert "filters[0].name: unknown filter 'vpcId'" in message
    assert "filters[0].name: azs" in refused(400, "INVALID_ARGUMENT", found, Filter("azs", ["cn-north-1a"]))
    assert "pageSize" in refused(400, "INVALID_ARGUMENT", vpc.call, "describeVpcs", pageSize=5)
    assert "pageNumber" in refused(400, "INVALID_ARGUMENT", vpc.call, "describeVpcs", pageNumber=0)


def test_modify_a_vpc(fake_server) -> None:
    vpc = vpc_client(fake_server)
    vpc_id = vpc.create_vpc("before", "10.0.0.0/16", description="old words")
    vpc.call("modifyVpc", vpc_id, vpcName="after")
    shown = vpc.vpc(vpc_id)
    assert shown["vpcName"] == "after" and shown["description"] == "old words"
    vpc.call("modifyVpc", vpc_id, description="new words")
    assert vpc.vpc(vpc_id)["description"] == "new words" and vpc.vpc(vpc_id)["vpcName"] == "after"
    for bad in (
        {"vpcName": "a b"},
        {"vpcName": "x" * 33},
        {"description": "d" * 257},
        {"addressPrefix": "10.1.0.0/16"},
    ):
        message = refused(400, "INVALID_ARGUMENT", vpc.raw, "modifyVpc", {"vpcId": vpc_id, **bad})
        assert message.startswith(next(iter(bad))), message
    message = refused(400, "INVALID_ARGUMENT", vpc.call, "modifyVpc", vpc_id, enableIpv6SubIds=["subnet-x"])
    assert message.startswith("enableIpv6SubIds: not supported")
    shown = vpc.vpc(vpc_id)
    assert (shown["vpcName"], shown["description"], shown["addressPrefix"]) == ("after", "new words", "10.0.0.0/16")
    # The SDK's only addressPrefix: "", which lifts the range.
    vpc.call("modifyVpc", vpc_id, addressPrefix="")
    assert vpc.vpc(vpc_id)["addressPrefix"] is None
    vpc.create_subnet(vpc_id, "elsewhere", "192.168.0.0/24")
    # The default VPC may be renamed: it stays the account's default network.
    vpc.call("modifyVpc", fake_server.admin.vpc_id, vpcName="renamed")
    assert vpc.vpc(fake_server.admin.vpc_id)["vpcName"] == "renamed"


def test_bad_vpcs_are_refused_and_change_nothing(fake_server) -> None:
    vpc = vpc_client(fake_server)
    cases = [
        ({"vpcName": ""}, "vpcName: must be 1-32 characters"),
        ({"vpcName": "a b"}, "vpcName: must be 1-32 characters"),
        ({"vpcName": "n" * 33}, "vpcName: must be 1-32 characters"),
        ({"vpcName": 7}, "vpcName: "),
        ({}, "vpcName: is required"),
        ({"vpcName": "v", "addressPrefix": "10.0.0.0"}, "addressPrefix: '10.0.0.0' is not an IPv4 CIDR"),
        ({"vpcName": "v", "addressPrefix": "10.0.0.9/16"}, "addressPrefix: 10.0.0.9/16 has host bits set"),
        ({"vpcName": "v", "addressPrefix": "10.0.0.0/12"}, "addressPrefix: the prefix length of 10.0.0.0/12"),
        ({"vpcName": "v", "addressPrefix": "10.0.0.0/29"}, "addressPrefix: the prefix length of 10.0.0.0/29"),
        ({"vpcName": "v", "addressPrefix": "100.64.0.0/16"}, "addressPrefix: 100.64.0.0/16 must lie in"),
        ({"vpcName": "v", "description": "d" * 257}, "description: "),
        ({"vpcName": "v", "resourceGroupId": "rg-1"}, "resourceGroupId: not supported"),
    ]
    for body, says in cases:
        message = refused(400, "INVALID_ARGUMENT", vpc.raw, "createVpc", body)
        assert message.startswith(says), (body, message)
    assert vpc.call("describeVpcs")["totalCount"] == 1
    assert vpc.quota("vpc")["count"] == 1


def test_delete_vpcs(fake_server) -> None:
    vpc = vpc_client(fake_server)
    vpc_id = vpc.create_vpc("doomed", "10.0.0.0/16")
    subnet_ids = [vpc.create_subnet(vpc_id, f"s{i}", f"10.0.{i}.0/24") for i in range(7)]
    group_id = add_group(vpc, vpc_id)
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteVpc", vpc_id)
    in_order = by_age(vpc.vpc(vpc_id)["subnets"], "subnetId")
    assert set(in_order) == set(subnet_ids)
    assert f"vpc {vpc_id} still has subnet(s) {', '.join(in_order[:5])} and 2 more: delete them first" in message
    for subnet_id in subnet_ids:
        vpc.call("deleteSubnet", subnet_id)
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteVpc", vpc_id)
    assert f"vpc {vpc_id} still has security group(s) {group_id}" in message
    assert vpc.vpc(vpc_id)["vpcName"] == "doomed"
    vpc.call("deleteNetworkSecurityGroup", group_id)
    vpc.call("deleteVpc", vpc_id)
    assert "vpcId: vpc" in refused(404, "NOT_FOUND", vpc.vpc, vpc_id)
    assert refused(404, "NOT_FOUND", vpc.call, "deleteVpc", vpc_id) == f"vpcId: vpc {vpc_id} not found"
    # The account's default VPC stays, whatever is in it.
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteVpc", fake_server.admin.vpc_id)
    assert "the account's default VPC" in message
    assert vpc.vpc(fake_server.admin.vpc_id)["subnets"][0]["subnetId"] == fake_server.admin.subnet_id


def test_vpc_deletes_reach_the_network_part(fake_server) -> None:
    vpc = vpc_client(fake_server)
    nudged: list[str] = []
    fake_server.app.ctx.nudge_vpc = nudged.append
    vpc_id = vpc.create_vpc("n", "10.0.0.0/16")
    subnet_id = vpc.create_subnet(vpc_id, "s", "10.0.0.0/24")
    assert nudged == [vpc_id]
    vpc.call("deleteSubnet", subnet_id)
    vpc.call("deleteVpc", vpc_id)
    assert nudged == [vpc_id, vpc_id, vpc_id]
    refused(400, "INVALID_ARGUMENT", vpc.create_subnet, vpc_id + "x", "s", "10.0.0.0/33")
    assert len(nudged) == 3


# -- subnets --


def test_create_and_describe_a_subnet(fake_server) -> None:
    vpc, jd = vpc_client(fake_server), fake_server.jd()
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    subnet_id = vpc.create_subnet(vpc_id, "web", "10.0.1.0/24", description="front", ipMaskLen=0)
    assert re.fullmatch(r"subnet-[a-z0-9]{10}", subnet_id)
    shown = vpc.subnet(subnet_id)
    assert shown == {
        "subnetId": subnet_id,
        "subnetName": "web",
        "vpcId": vpc_id,
        "addressPrefix": "10.0.1.0/24",
        "availableIpCount": 253,  # network, gateway and broadcast are never assigned
        "availableCidrIpCount": None,
        "ipMaskLen": 0,
        "description": "front",
        "routeTableId": None,
        "aclId": None,
        "startIp": "10.0.1.0",
        "endIp": "10.0.1.255",
        "ipv6StartIp": None,
        "ipv6EndIp": None,
        "createdTime": shown["createdTime"],
        "subnetType": "standard",
        "az": "",
        "publicSubnet": False,
        "tags": [],
        "resourceGroupId": None,
        "type": "normal",
        "hpcClusterId": None,
    }
    assert TIME.match(shown["createdTime"])
    assert vpc.vpc(vpc_id)["subnets"] == [shown]
    small = vpc.create_subnet(vpc_id, "small", "10.0.2.0/28")
    assert vpc.subnet(small)["availableIpCount"] == 13 and vpc.subnet(small)["endIp"] == "10.0.2.15"

    # Pods take addresses; deleting them gives the addresses back.
    group_id = add_group(vpc, vpc_id)
    pod_ids = jd.create_pods(pod_spec(on_subnet(jd.account, subnet_id, group_id), "p-[1]", [container()]), 3)
    assert vpc.subnet(subnet_id)["availableIpCount"] == 250
    in_vpc = {x["subnetId"]: x for x in vpc.vpc(vpc_id)["subnets"]}
    assert in_vpc[subnet_id]["availableIpCount"] == 250 and in_vpc[small]["availableIpCount"] == 13
    assert {jd.pod(p)["privateIpAddress"] for p in pod_ids} == {"10.0.1.2", "10.0.1.3", "10.0.1.4"}
    fake_server.settle()
    jd.call("deletePod", pod_ids[0])
    fake_server.settle()
    assert vpc.subnet(subnet_id)["availableIpCount"] == 251


def test_subnet_ranges(fake_server) -> None:
    vpc = vpc_client(fake_server)
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    first = vpc.create_subnet(vpc_id, "first", "10.0.1.0/24")
    vpc.create_subnet(vpc_id, "next-door", "10.0.2.0/24")
    cases = [
        ("10.0.1.128/25", f"addressPrefix: 10.0.1.128/25 overlaps subnet {first} (10.0.1.0/24) of {vpc_id}"),
        ("10.0.0.0/16", "addressPrefix: 10.0.0.0/16 overlaps subnet subnet-"),
        ("10.0.0.0/23", f"addressPrefix: 10.0.0.0/23 overlaps subnet {first}"),
        ("10.1.0.0/24", f"addressPrefix: 10.1.0.0/24 is not inside the range 10.0.0.0/16 of {vpc_id}"),
        ("192.168.0.0/24", "addressPrefix: 192.168.0.0/24 is not inside the range"),
        ("10.0.3.0/29", "addressPrefix: the prefix length of 10.0.3.0/29 must be between 16 and 28"),
        ("10.0.0.0/15", "addressPrefix: the prefix length of 10.0.0.0/15 must be between 16 and 28"),
        ("10.0.3.7/24", "addressPrefix: 10.0.3.7/24 has host bits set; the network is 10.0.3.0/24"),
        ("10.0.3.0", "addressPrefix: '10.0.3.0' is not an IPv4 CIDR"),
        ("10.0.3.0/255.255.255.0", "addressPrefix: '10.0.3.0/255.255.255.0' is not an IPv4 CIDR"),
        ("10.0.300.0/24", "addressPrefix: '10.0.300.0/24' is not an IPv4 CIDR"),
        ("", "addressPrefix: '' is not an IPv4 CIDR"),
    ]
    for cidr, says in cases:
        message = refused(400, "INVALID_ARGUMENT", vpc.create_subnet, vpc_id, "s", cidr)
        assert message.startswith(says), (cidr, message)
    # The edges: the last /28 of the range, and a subnet right after the others.
    vpc.create_subnet(vpc_id, "edge", "10.0.255.240/28")
    vpc.create_subnet(vpc_id, "after", "10.0.3.0/24")
    answer = vpc.call("describeSubnets", filters=[Filter("vpcId", [vpc_id])])
    assert {s["addressPrefix"] for s in answer["subnets"]} == {
        "10.0.1.0/24",
        "10.0.2.0/24",
        "10.0.255.240/28",
        "10.0.3.0/24",
    }


def test_overlapping_ranges_across_vpcs_and_accounts(fake_server) -> None:
    a = vpc_client(fake_server)
    b = vpc_client(fake_server, fake_server.new_account("b"))
    made = []
    for client in (a, a, b):
        vpc_id = client.create_vpc("same", "10.0.0.0/16")
        made.append((vpc_id, client.create_subnet(vpc_id, "same", "10.0.0.0/24")))
    assert len({v for v, _ in made}) == 3
    for (vpc_id, subnet_id), client in zip(made, (a, a, b), strict=True):
        assert client.subnet(subnet_id)["addressPrefix"] == "10.0.0.0/24"
        assert client.subnet(subnet_id)["vpcId"] == vpc_id
    # Also the range of another account's default subnet, in a VPC of one's own.
    open_id = a.create_vpc("open")
    a.create_subnet(open_id, "like-b", b.account.subnet_cidr)


def test_bad_subnets_are_refused_and_change_nothing(fake_server) -> None:
    vpc = vpc_client(fake_server)
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    base = {"vpcId": vpc_id, "subnetName": "s", "addressPrefix": "10.0.1.0/24"}
    cases = [
        ({"subnetName": "a b"}, "subnetName: must be 1-32 characters"),
        ({"subnetName": "s" * 33}, "subnetName: must be 1-32 characters"),
        ({"subnetName": None}, "subnetName: "),
        ({"addressPrefix": None}, "addressPrefix: "),
        ({"addressPrefix": 10}, "addressPrefix: "),
        ({"vpcId": ""}, "vpcId: "),
        ({"description": "d" * 257}, "description: "),
        ({"ipMaskLen": 26}, "ipMaskLen: only 0 is supported"),
        ({"routeTableId": "rtb-1"}, "routeTableId: not supported by podyard yet: route tables are not offered"),
        ({"domainNameServers": ["10.0.0.2"]}, "domainNameServers: not supported"),
        ({"type": "hpc"}, "type: "),
        ({"userTags": [{"key": "k", "value": "v"}]}, "userTags: not supported"),
        ({"surprise": 1}, "surprise: unknown field"),
    ]
    for change, says in cases:
        message = refused(400, "INVALID_ARGUMENT", vpc.raw, "createSubnet", {**base, **change})
        assert message.startswith(says), (change, message)
    message = refused(404, "NOT_FOUND", vpc.raw, "createSubnet", {**base, "vpcId": "vpc-nothere00"})
    assert message == "vpcId: vpc vpc-nothere00 not found"
    assert vpc.vpc(vpc_id)["subnets"] == []
    assert vpc.quota("subnet", vpc_id)["count"] == 0
    # A dry run checks everything and makes nothing.
    assert vpc.raw("createSubnet", {**base, "dryRun": True}) == {"subnetId": None}
    assert vpc.vpc(vpc_id)["subnets"] == []
    refused(400, "INVALID_ARGUMENT", vpc.raw, "createSubnet", {**base, "dryRun": True, "addressPrefix": "10.9.0.0/24"})


def test_subnet_paging_and_filters(fake_server) -> None:
    vpc = vpc_client(fake_server)
    one, two = vpc.create_vpc("one", "10.0.0.0/16"), vpc.create_vpc("two", "10.0.0.0/16")
    in_one = [vpc.create_subnet(one, "web" if i < 3 else f"s{i}", f"10.0.{i}.0/24") for i in range(9)]
    in_two = [vpc.create_subnet(two, "web", f"10.0.{i}.0/24") for i in range(3)]
    everything = oldest_first(vpc.call("describeSubnets", pageSize=100)["subnets"], "subnetId")
    assert set(everything) == {fake_server.admin.subnet_id, *in_one, *in_two}

    def found(*filters: Filter, **page: Any) -> list[str]:
        return [s["subnetId"] for s in vpc.call("describeSubnets", filters=list(filters) or None, **page)["subnets"]]

    def ordered(*chosen: str) -> list[str]:
        return [i for i in everything if i in chosen]

    assert vpc.call("describeSubnets")["totalCount"] == 13
    assert found() == everything
    assert found(pageSize=10) == everything[:10]
    assert found(pageSize=10, pageNumber=2) == everything[10:]
    assert found(pageSize=10, pageNumber=3) == everything[10:]
    assert found(Filter("vpcId", [two])) == ordered(*in_two)
    assert found(Filter("subnetNames", ["web"])) == ordered(*in_one[:3], *in_two)
    assert found(Filter("subnetNames", ["web"]), Filter("vpcId", [one])) == ordered(*in_one[:3])
    assert found(Filter("subnetIds", [in_two[1], in_one[5]])) == ordered(in_one[5], in_two[1])
    assert found(Filter("subnetIds", [in_two[1]]), Filter("vpcId", [one])) == []
    assert found(Filter("types", ["normal"])) == everything
    assert found(Filter("types", ["hpc"])) == []
    assert found(Filter("subnetType", ["all"])) == everything
    assert found(Filter("subnetType", ["edge"])) == []
    assert found(Filter("routeTableId", ["rtb-x"])) == []
    assert found(Filter("aclId", ["acl-x"])) == []
    message = refused(400, "INVALID_ARGUMENT", found, Filter("vpcId", [one, two]))
    assert message == "filters[0].values: filter vpcId takes exactly one value"
    message = refused(400, "INVALID_ARGUMENT", found, Filter("subnetName", ["web"]))
    assert message.startswith("filters[0].name: unknown filter 'subnetName'; the filters are subnetIds, subnetNames")
    assert "types 'gpu' is not one of" in refused(400, "INVALID_ARGUMENT", found, Filter("types", ["gpu"]))


def test_modify_a_subnet(fake_server) -> None:
    vpc = vpc_client(fake_server)
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    subnet_id = vpc.create_subnet(vpc_id, "old", "10.0.1.0/24")
    vpc.call("modifySubnet", subnet_id, subnetName="new", description="words")
    shown = vpc.subnet(subnet_id)
    assert (shown["subnetName"], shown["description"], shown["addressPrefix"]) == ("new", "words", "10.0.1.0/24")
    assert refused(400, "INVALID_ARGUMENT", vpc.call, "modifySubnet", subnet_id, subnetName="a/b").startswith(
        "subnetName: "
    )
    message = refused(400, "INVALID_ARGUMENT", vpc.call, "modifySubnet", subnet_id, domainNames=["corp"])
    assert message.startswith("domainNames: not supported")
    assert vpc.subnet(subnet_id)["subnetName"] == "new"


def test_delete_subnets(fake_server) -> None:
    vpc, jd = vpc_client(fake_server), fake_server.jd()
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    subnet_id = vpc.create_subnet(vpc_id, "busy", "10.0.1.0/24")
    group_id = add_group(vpc, vpc_id)
    pod_ids = jd.create_pods(pod_spec(on_subnet(jd.account, subnet_id, group_id), "busy-[1]", [container()]), 7)
    fake_server.settle()
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteSubnet", subnet_id)
    in_order = by_age([jd.pod(p) for p in pod_ids], "podId")
    assert f"subnet {subnet_id} is used by pod(s) {', '.join(in_order[:5])} and 2 more: delete them first" in message
    assert vpc.subnet(subnet_id)["availableIpCount"] == 246
    for pod_id in pod_ids:
        jd.call("deletePod", pod_id)
    fake_server.settle()
    vpc.call("deleteSubnet", subnet_id)
    assert refused(404, "NOT_FOUND", vpc.subnet, subnet_id) == f"subnetId: subnet {subnet_id} not found"
    assert refused(404, "NOT_FOUND", vpc.call, "deleteSubnet", subnet_id) == f"subnetId: subnet {subnet_id} not found"
    assert vpc.vpc(vpc_id)["subnets"] == []
    # The range is free again.
    vpc.create_subnet(vpc_id, "again", "10.0.1.0/24")
    # The account's default subnet stays, even empty.
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteSubnet", fake_server.admin.subnet_id)
    assert "the account's default subnet" in message
    assert vpc.subnet(fake_server.admin.subnet_id)["subnetName"] == "default"


# -- network interfaces --


def test_network_interfaces_are_the_pods_primary_interfaces(fake_server) -> None:
    vpc, jd = vpc_client(fake_server), fake_server.jd()
    spec = pod_spec(jd.account, "nic", [container()])
    spec.primaryNetworkInterface.networkInterface.networkInterfaceName = "eth-main"
    spec.primaryNetworkInterface.networkInterface.description = "the pod's way out"
    [pod_id] = jd.create_pods(spec)
    fake_server.settle()
    pod = jd.pod(pod_id)
    nic_id = pod["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"]
    assert nic_id.startswith("port-")
    shown = vpc.call("describeNetworkInterface", nic_id)["networkInterface"]
    assert shown == {
        "networkInterfaceName": "eth-main",
        "networkInterfaceId": nic_id,
        "azType": "standard",
        "az": "",
        "role": "Primary",
        "macAddress": pod["primaryNetworkInterface"]["networkInterface"]["macAddress"],
        "vpcId": jd.account.vpc_id,
        "subnetId": jd.account.subnet_id,
        "networkSecurityGroupIds": [jd.account.security_group_id],
        "sanityCheck": 1,
        "primaryIp": {
            "privateIpAddress": pod["privateIpAddress"],
            "elasticIpId": None,
            "elasticIpAddress": None,
            "subnetId": jd.account.subnet_id,
        },
        "secondaryIps": [],
        "secondaryCidrs": [],
        "secondaryCidrsEx": [],
        "instanceType": "pod",
        "instanceId": pod_id,
        "instanceOwnerId": account_id(fake_server, jd.account),
        "deviceIndex": 1,
        "description": "the pod's way out",
        "attachmentStatus": "attached",
        "networkInterfaceStatus": "enabled",
        "createdTime": pod["createTime"],
        "tags": [],
        "resourceGroupId": None,
        "connectionTrackingConfiguration": None,
    }
    # An elastic IP on the pod shows on the primary IP; secondary IPs from the pod's row.
    [eip_id] = add_elastic_ips(vpc, 1)
    jd.call("associateElasticIp", pod_id, eip_id)
    address = vpc.call("describeElasticIp", eip_id)["elasticIp"]["elasticIpAddress"]
    with fake_server.app.ctx.db.write() as s:
        from podyard.store.tables import Pod

        s.get(Pod, pod_id).secondary_ips = ["10.240.0.77"]  # type: ignore[union-attr]
    shown = vpc.call("describeNetworkInterface", nic_id)["networkInterface"]
    assert shown["primaryIp"]["elasticIpId"] == eip_id and shown["primaryIp"]["elasticIpAddress"] == address
    assert shown["secondaryIps"] == [
        {
            "privateIpAddress": "10.240.0.77",
            "elasticIpId": None,
            "elasticIpAddress": None,
            "subnetId": jd.account.subnet_id,
        }
    ]
    jd.call("deletePod", pod_id)
    fake_server.settle()
    message = refused(404, "NOT_FOUND", vpc.call, "describeNetworkInterface", nic_id)
    assert message == f"networkInterfaceId: network interface {nic_id} not found"


def test_network_interface_paging_and_filters(fake_server) -> None:
    vpc, jd = vpc_client(fake_server), fake_server.jd()
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    subnet_id = vpc.create_subnet(vpc_id, "s", "10.0.1.0/24")
    group_id = add_group(vpc, vpc_id)
    on_default = jd.create_pods(pod_spec(jd.account, "d-[1]", [container()]), 8)
    on_mine = jd.create_pods(pod_spec(on_subnet(jd.account, subnet_id, group_id), "m-[1]", [container()]), 4)
    pods = jd.pods(pageSize=100)["pods"]
    nic = {p["podId"]: p["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"] for p in pods}
    everything = [nic[p] for p in by_age(pods, "podId")]

    def found(*filters: Filter, **page: Any) -> list[str]:
        result = vpc.call("describeNetworkInterfaces", filters=list(filters) or None, **page)
        return [n["networkInterfaceId"] for n in result["networkInterfaces"]]

    def ordered(*pod_ids: str) -> list[str]:
        return [i for i in everything if i in {nic[p] for p in pod_ids}]

    assert vpc.call("describeNetworkInterfaces")["totalCount"] == 12
    assert found() == everything
    assert found(pageSize=10, pageNumber=2) == everything[10:]
    assert found(pageSize=10, pageNumber=9) == everything[10:]
    assert found(Filter("vpcId", [vpc_id])) == ordered(*on_mine)
    assert found(Filter("subnetId", [jd.account.subnet_id])) == ordered(*on_default)
    assert found(Filter("networkInterfaceIds", [nic[on_mine[1]], nic[on_default[0]]])) == ordered(
        on_default[0], on_mine[1]
    )
    assert found(Filter("networkInterfaceIds", [nic[on_mine[1]]]), Filter("vpcId", [jd.account.vpc_id])) == []
    assert found(Filter("role", ["Primary"])) == everything
    assert found(Filter("role", ["Secondary", "Managed"])) == []
    assert found(Filter("azType", ["edge"])) == []
    assert found(Filter("networkInterfaceNames", ["nobody"])) == []
    message = refused(400, "INVALID_ARGUMENT", found, Filter("subnetId", ["a", "b"]))
    assert message == "filters[0].values: filter subnetId takes exactly one value"
    assert "role 'Boss'" in refused(400, "INVALID_ARGUMENT", found, Filter("role", ["Boss"]))


def test_network_interface_names_filter(fake_server) -> None:
    vpc, jd = vpc_client(fake_server), fake_server.jd()
    ids = []
    for name in ("alpha", "beta", None):
        spec = pod_spec(jd.account, f"p{len(ids)}", [container()])
        spec.primaryNetworkInterface.networkInterface.networkInterfaceName = name
        [pod_id] = jd.create_pods(spec)
        ids.append(jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"])
    result = vpc.call("describeNetworkInterfaces", filters=[Filter("networkInterfaceNames", ["beta", "alpha"])])
    assert result["totalCount"] == 2
    assert {n["networkInterfaceId"] for n in result["networkInterfaces"]} == set(ids[:2])
    assert {n["networkInterfaceName"] for n in result["networkInterfaces"]} == {"alpha", "beta"}
    one = vpc.call("describeNetworkInterfaces", filters=[Filter("networkInterfaceNames", ["beta"])])
    assert [n["networkInterfaceId"] for n in one["networkInterfaces"]] == [ids[1]]


def test_interface_actions_podyard_does_not_offer_say_so(fake_server) -> None:
    vpc = vpc_client(fake_server)
    message = refused(501, "NOT_IMPLEMENTED", vpc.call, "createNetworkInterface", fake_server.admin.subnet_id)
    assert "createNetworkInterface" in message
    refused(501, "NOT_IMPLEMENTED", vpc.call, "deleteNetworkInterface", "port-abc")


# -- tenancy --


def test_another_accounts_ids_are_unknown_ids(fake_server) -> None:
    owner, other = vpc_client(fake_server), vpc_client(fake_server, fake_server.new_account("other"))
    jd = fake_server.jd()
    vpc_id = owner.create_vpc("mine", "10.0.0.0/16", description="keep")
    subnet_id = owner.create_subnet(vpc_id, "mine", "10.0.1.0/24")
    group_id = add_group(owner, vpc_id)
    add_rules(owner, group_id, 2)
    [pod_id] = jd.create_pods(pod_spec(jd.account, "mine", [container()]))
    nic_id = jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"]
    default_vpc, default_subnet = fake_server.admin.vpc_id, fake_server.admin.subnet_id

    def unknown(field: str, kind: str, rid: str, fn: Any, *args: Any, **kwargs: Any) -> None:
        message = refused(404, "NOT_FOUND", fn, *args, **kwargs)
        assert message == f"{field}: {kind} {rid} not found", message
        # Exactly the answer to an id nobody has.
        fake = rid[:-3] + "zzz"
        assert refused(404, "NOT_FOUND", fn, *[fake if a == rid else a for a in args], **kwargs) == message.replace(
            rid, fake
        )

    for v in (vpc_id, default_vpc):
        unknown("vpcId", "vpc", v, other.vpc, v)
        unknown("vpcId", "vpc", v, other.call, "modifyVpc", v, vpcName="stolen")
        unknown("vpcId", "vpc", v, other.call, "deleteVpc", v)
        unknown("vpcId", "vpc", v, other.create_subnet, v, "intruder", "10.0.9.0/24")
        unknown("parentResourceId", "vpc", v, other.quota, "subnet", v)
        unknown("parentResourceId", "vpc", v, other.quota, "security_group", v)
    for sn in (subnet_id, default_subnet):
        unknown("subnetId", "subnet", sn, other.subnet, sn)
        unknown("subnetId", "subnet", sn, other.call, "modifySubnet", sn, subnetName="stolen")
        unknown("subnetId", "subnet", sn, other.call, "deleteSubnet", sn)
    unknown("networkInterfaceId", "network interface", nic_id, other.call, "describeNetworkInterface", nic_id)
    unknown("parentResourceId", "security group", group_id, other.quota, "securityGroupRule", group_id)
    # Lists and filters never show them.
    assert vpc_id not in [v["vpcId"] for v in other.call("describeVpcs")["vpcs"]]
    assert other.call("describeVpcs", filters=[Filter("vpcIds", [vpc_id, default_vpc])])["totalCount"] == 0
    assert other.call("describeSubnets", filters=[Filter("vpcId", [vpc_id])])["totalCount"] == 0
    assert other.call("describeSubnets", filters=[Filter("subnetIds", [subnet_id])])["totalCount"] == 0
    assert other.call("describeNetworkInterfaces", filters=[Filter("networkInterfaceIds", [nic_id])])["totalCount"] == 0
    assert other.call("describeNetworkInterfaces")["totalCount"] == 0
    assert other.quota("vpc")["count"] == 1
    # And nothing of the owner's changed.
    shown = owner.vpc(vpc_id)
    assert (shown["vpcName"], shown["description"], [s["subnetName"] for s in shown["subnets"]]) == (
        "mine",
        "keep",
        ["mine"],
    )
    assert owner.subnet(default_subnet)["subnetName"] == "default"


def test_requests_signed_for_another_service_never_reach_the_vpc_routes(fake_server) -> None:
    # The pod service has no /vpcs/; the vpc service has no /pods.
    jd = fake_server.jd()
    from tests.api.test_wire import signed

    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/vpcs/", service="pod")
    assert r.status_code == 404 and "no pod API answers" in r.json()["error"]["message"]
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods", service="vpc")
    assert r.status_code == 404 and "no vpc API answers" in r.json()["error"]["message"]
    assert jd.pods()["totalCount"] == 0


# -- quotas --


def test_quotas_count_up_and_down(fake_server) -> None:
    vpc, admin = vpc_client(fake_server), fake_server.admin
    assert vpc.quota("vpc") == {"type": "vpc", "parentResourceId": None, "maxLimit": 10, "count": 1}
    vpc_id = vpc.create_vpc("v", "10.0.0.0/16")
    assert vpc.quota("vpc")["count"] == 2
    assert vpc.quota("subnet", vpc_id) == {"type": "subnet", "parentResourceId": vpc_id, "maxLimit": 50, "count": 0}
    subnet_ids = [vpc.create_subnet(vpc_id, "s", f"10.0.{i}.0/24") for i in range(3)]
    assert vpc.quota("subnet", vpc_id)["count"] == 3
    assert vpc.quota("subnet", admin.vpc_id)["count"] == 1
    vpc.call("deleteSubnet", subnet_ids[0])
    assert vpc.quota("subnet", vpc_id)["count"] == 2

    assert vpc.quota("security_group", admin.vpc_id) == {
        "type": "security_group",
        "parentResourceId": admin.vpc_id,
        "maxLimit": 50,
        "count": 1,
    }
    assert vpc.quota("security_group", vpc_id)["count"] == 0
    group_id = add_group(vpc, vpc_id)
    assert vpc.quota("security_group", vpc_id)["count"] == 1
    start = len(rule_ids(vpc, group_id))  # a new group allows all egress
    assert vpc.quota("securityGroupRule", group_id) == {
        "type": "securityGroupRule",
        "parentResourceId": group_id,
        "maxLimit": 100,
        "count": start,
    }
    rules = add_rules(vpc, group_id, 4)
    assert vpc.quota("securityGroupRule", group_id)["count"] == start + 4
    vpc.call("removeNetworkSecurityGroupRules", group_id, rules[:3])
    assert vpc.quota("securityGroupRule", group_id)["count"] == start + 1
    vpc.call("deleteNetworkSecurityGroup", group_id)
    assert vpc.quota("security_group", vpc_id)["count"] == 0

    assert vpc.quota("elastic_ip") == {"type": "elastic_ip", "parentResourceId": None, "maxLimit": 20, "count": 0}
    eips = add_elastic_ips(vpc, 2)
    add_elastic_ips(vpc_client(fake_server, fake_server.new_account("other")), 1)
    assert vpc.quota("elastic_ip")["count"] == 2
    vpc.call("deleteElasticIp", eips[0])
    assert vpc.quota("elastic_ip")["count"] == 1

    # Per-account overrides.
    set_quota(fake_server, admin, "subnet", 7)
    set_quota(fake_server, admin, "elastic_ip", 3)
    assert vpc.quota("subnet", vpc_id)["maxLimit"] == 7 and vpc.quota("elastic_ip")["maxLimit"] == 3
    # The pod service's describeQuota still answers on its own path.
    assert fake_server.jd().call("describeQuota", "pod")["quota"] == {"resourceType": "pod", "limit": 20, "used": 0}


def test_quota_questions_podyard_cannot_answer(fake_server) -> None:
    vpc = vpc_client(fake_server)
    message = refused(400, "INVALID_ARGUMENT", vpc.quota, "natGateway")
    assert message.startswith("type: podyard offers no natGateway and counts only vpc, elastic_ip, subnet")
    assert refused(400, "INVALID_ARGUMENT", vpc.quota, "pods").startswith("type: unknown resource type 'pods'")
    message = refused(400, "INVALID_ARGUMENT", vpc.quota, "subnet")
    assert message == "parentResourceId: is required for type subnet (the vpc id)"
    message = refused(400, "INVALID_ARGUMENT", vpc.quota, "vpc", fake_server.admin.vpc_id)
    assert message.startswith("parentResourceId: type vpc is counted per account")
    message = refused(404, "NOT_FOUND", vpc.quota, "securityGroupRule", "sg-nothere00")
    assert message == "parentResourceId: security group sg-nothere00 not found"


def test_quotas_are_enforced_at_create(fake_server) -> None:
    vpc = vpc_client(fake_server)
    made = [vpc.create_vpc(f"v{i}", "10.0.0.0/16") for i in range(9)]
    message = refused(429, "QUOTA_EXCEEDED", vpc.create_vpc, "one-too-many")
    assert message.startswith("vpc quota exceeded: 10 in use, 1 asked, limit 10")
    assert vpc.quota("vpc")["count"] == 10
    vpc.call("deleteVpc", made[0])
    vpc.create_vpc("fits-again")
    set_quota(fake_server, fake_server.admin, "vpc", 12)
    vpc.create_vpc("eleven")

    set_quota(fake_server, fake_server.admin, "subnet", 2)
    vpc.create_subnet(made[1], "a", "10.0.1.0/24")
    vpc.create_subnet(made[1], "b", "10.0.2.0/24")
    message = refused(429, "QUOTA_EXCEEDED", vpc.create_subnet, made[1], "c", "10.0.3.0/24")
    assert message.startswith("subnet quota exceeded: 2 in use, 1 asked, limit 2")
    refused(
        429,
        "QUOTA_EXCEEDED",
        vpc.raw,
        "createSubnet",
        {"vpcId": made[1], "subnetName": "c", "addressPrefix": "10.0.3.0/24", "dryRun": True},
    )
    assert vpc.quota("subnet", made[1])["count"] == 2
    # The limit is per VPC.
    vpc.create_subnet(made[2], "a", "10.0.1.0/24")
