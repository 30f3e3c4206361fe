"""The VPC service's security groups and their rules, through the official SDK's
VpcClient against podyard with the fake runtime."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.NetworkInterfaceAttachmentSpec import NetworkInterfaceAttachmentSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceSpec import NetworkInterfaceSpec
from jdcloud_sdk.services.vpc.models.AddSecurityGroupRules import AddSecurityGroupRules
from jdcloud_sdk.services.vpc.models.ModifySecurityGroupRules import ModifySecurityGroupRules

from drive.jd import Account, JdError, container, pod_spec
from drive.jdvpc import JdVpc, nudged, set_quota

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
RULE_ID = re.compile(r"^sgr-[a-z0-9]{10}$")


def vpc_client(server: Any, account: Account | None = None) -> JdVpc:
    return JdVpc(server.endpoint, account or server.admin)


def refused(code: int, status: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(JdError) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.status) == (code, status), e.value
    return e.value.message


def group(vpc: JdVpc, group_id: str) -> dict[str, Any]:
    return dict(vpc.call("describeNetworkSecurityGroup", group_id)["networkSecurityGroup"])


def create_group(vpc: JdVpc, name: str, vpc_id: str | None = None, **optional: Any) -> str:
    answer = vpc.call("createNetworkSecurityGroup", vpc_id or vpc.account.vpc_id, name, **optional)
    return str(answer["networkSecurityGroupId"])


def rules(vpc: JdVpc, group_id: str) -> list[dict[str, Any]]:
    return list(group(vpc, group_id)["securityGroupRules"])


def shape(rule: dict[str, Any]) -> tuple[Any, ...]:
    return (rule["direction"], rule["protocol"], rule["addressPrefix"], rule["fromPort"], rule["toPort"])


def pod_with_groups(account: Account, name: str, groups: list[str]) -> Any:
    spec = pod_spec(account, name, [container()])
    spec.primaryNetworkInterface = NetworkInterfaceAttachmentSpec(
        NetworkInterfaceSpec(account.subnet_id, securityGroups=groups)
    )
    return spec


def test_the_default_group_allows_its_vpc_in_and_everything_out(fake_server) -> None:
    vpc = vpc_client(fake_server)
    admin = fake_server.admin
    shown = group(vpc, admin.security_group_id)
    assert shown["networkSecurityGroupName"] == "default" and shown["vpcId"] == admin.vpc_id
    assert shown["networkSecurityGroupType"] == "default" and shown["networkInterfaceIds"] == []
    ingress, egress = shown["securityGroupRules"]
    assert shape(ingress) == (0, 300, admin.subnet_cidr, 0, 0)
    assert shape(egress) == (1, 300, "0.0.0.0/0", 0, 0)
    for rule in (ingress, egress):
        assert RULE_ID.match(rule["ruleId"]) and TIME.match(rule["createdTime"])
        assert rule["ruleAction"] == "ALLOW" and rule["priority"] == 100 and rule["ipVersion"] == 4
        assert rule["addressPrefixType"] == "CIDR" and rule["description"] is None
    assert ingress["ruleId"] != egress["ruleId"]


def test_create_and_describe_a_group(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    vpcs, _ = nudged(fake_server, monkeypatch)
    group_id = create_group(vpc, "web_前端-1", description="the front end")
    assert re.fullmatch(r"sg-[a-z0-9]{10}", group_id)
    shown = group(vpc, group_id)
    [rule] = shown.pop("securityGroupRules")
    assert shown == {
        "networkSecurityGroupId": group_id,
        "networkSecurityGroupName": "web_前端-1",
        "description": "the front end",
        "vpcId": fake_server.admin.vpc_id,
        "createdTime": shown["createdTime"],
        "networkSecurityGroupType": "custom",
        "networkInterfaceIds": [],
    }
    assert TIME.match(shown["createdTime"])
    # A new group: no ingress, all egress, as one visible rule.
    assert shape(rule) == (1, 300, "0.0.0.0/0", 0, 0) and RULE_ID.match(rule["ruleId"])
    assert group(vpc, create_group(vpc, "plain"))["description"] is None
    assert vpcs == []  # a new group is on no interface: the network has nothing to follow


def test_rules_field_by_field(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    group_id = create_group(vpc, "rules")
    fake_server.jd().create_pods(pod_with_groups(fake_server.admin, "carrier", [group_id]))
    vpcs, pods = nudged(fake_server, monkeypatch)
    vpc.call(
        "addNetworkSecurityGroupRules",
        group_id,
        [
            AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=22, toPort=22, description="ssh"),
            AddSecurityGroupRules(17, 0, "192.168.1.0/24"),
            AddSecurityGroupRules(1, 1, "10.1.2.3", priority=5),
            AddSecurityGroupRules(300, 0, "0.0.0.0/0", ruleAction="ALLOW", addressPrefixType="CIDR"),
            AddSecurityGroupRules(6, 1, "172.16.0.0/12", fromPort=8000),
        ],
    )
    assert vpcs == [fake_server.admin.vpc_id] and pods == []  # the VPC's rules, no pod pass
    egress, ssh, udp, icmp, everything, tcp_out = rules(vpc, group_id)
    assert shape(egress) == (1, 300, "0.0.0.0/0", 0, 0)
    assert shape(ssh) == (0, 6, "10.0.0.0/8", 22, 22) and ssh["description"] == "ssh" and ssh["priority"] == 100
    assert shape(udp) == (0, 17, "192.168.1.0/24", 1, 65535)  # ports default to all
    assert shape(icmp) == (1, 1, "10.1.2.3/32", 0, 0) and icmp["priority"] == 5  # an address is a /32
    assert shape(everything) == (0, 300, "0.0.0.0/0", 0, 0)
    assert shape(tcp_out) == (1, 6, "172.16.0.0/12", 8000, 65535)
    ids = [r["ruleId"] for r in (ssh, udp, icmp, everything, tcp_out)]
    assert all(RULE_ID.match(i) for i in ids) and len(set(ids)) == 5


def test_modify_rules(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    group_id = create_group(vpc, "modify")
    vpc.call(
        "addNetworkSecurityGroupRules",
        group_id,
        [AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=80, toPort=90), AddSecurityGroupRules(1, 0, "10.0.0.0/8")],
    )
    egress, tcp, icmp = rules(vpc, group_id)
    vpcs, _ = nudged(fake_server, monkeypatch)
    modify = lambda *specs: vpc.call("modifyNetworkSecurityGroupRules", group_id, list(specs))  # noqa: E731
    modify(ModifySecurityGroupRules(tcp["ruleId"], toPort=100, description="web", priority=7))
    after = {r["ruleId"]: r for r in rules(vpc, group_id)}
    assert shape(after[tcp["ruleId"]]) == (0, 6, "10.0.0.0/8", 80, 100)
    assert after[tcp["ruleId"]]["description"] == "web" and after[tcp["ruleId"]]["priority"] == 7
    assert vpcs == [fake_server.admin.vpc_id]
    # TCP to UDP keeps the ports; to ICMP drops them; ICMP to TCP opens all of them.
    modify(ModifySecurityGroupRules(tcp["ruleId"], protocol=17, addressPrefix="10.2.0.0/16"))
    assert shape(rules(vpc, group_id)[1]) == (0, 17, "10.2.0.0/16", 80, 100)
    modify(ModifySecurityGroupRules(tcp["ruleId"], protocol=1), ModifySecurityGroupRules(icmp["ruleId"], protocol=6))
    _, first, second = rules(vpc, group_id)
    assert shape(first) == (0, 1, "10.2.0.0/16", 0, 0) and shape(second) == (0, 6, "10.0.0.0/8", 1, 65535)
    assert first["description"] == "web"  # what a spec leaves out stays
    # Refusals change nothing.
    before = rules(vpc, group_id)
    message = refused(
        409, "ALREADY_EXISTS", modify, ModifySecurityGroupRules(first["ruleId"], protocol=6, addressPrefix="10.0.0.0/8")
    )
    assert first["ruleId"] in message and second["ruleId"] in message
    message = refused(400, "INVALID_ARGUMENT", modify, ModifySecurityGroupRules(second["ruleId"], fromPort=70000))
    assert "modifySecurityGroupRuleSpecs[0].fromPort" in message
    message = refused(400, "INVALID_ARGUMENT", modify, ModifySecurityGroupRules(second["ruleId"], fromPort=9, toPort=8))
    assert "fromPort: 9 is above toPort 8" in message
    message = refused(400, "INVALID_ARGUMENT", modify, ModifySecurityGroupRules(first["ruleId"], fromPort=8))
    assert "modifySecurityGroupRuleSpecs[0].fromPort: protocol 1 has no ports" in message
    message = refused(
        404,
        "NOT_FOUND",
        modify,
        ModifySecurityGroupRules(first["ruleId"], description="x"),
        ModifySecurityGroupRules("sgr-0000000000", description="x"),
    )
    assert "modifySecurityGroupRuleSpecs[1].ruleId: rule sgr-0000000000 not found" in message
    message = refused(
        400, "INVALID_ARGUMENT", modify, ModifySecurityGroupRules(first["ruleId"], addressPrefix="1.2.3.4/8")
    )
    assert "addressPrefix" in message and "host bits" in message
    message = refused(
        400,
        "INVALID_ARGUMENT",
        modify,
        ModifySecurityGroupRules(first["ruleId"], description="a"),
        ModifySecurityGroupRules(first["ruleId"], description="b"),
    )
    assert "more than once" in message
    assert "ruleAction" in refused(
        400, "INVALID_ARGUMENT", modify, ModifySecurityGroupRules(first["ruleId"], ruleAction="DENY")
    )
    assert "modifySecurityGroupRuleSpecs" in refused(400, "INVALID_ARGUMENT", modify)
    assert rules(vpc, group_id) == before
    assert egress in before


def test_remove_rules(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    group_id = create_group(vpc, "remove")
    vpc.call(
        "addNetworkSecurityGroupRules",
        group_id,
        [AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=22, toPort=22), AddSecurityGroupRules(1, 0, "10.0.0.0/8")],
    )
    egress, ssh, icmp = rules(vpc, group_id)
    remove = lambda ids: vpc.call("removeNetworkSecurityGroupRules", group_id, ids)  # noqa: E731
    message = refused(404, "NOT_FOUND", remove, [ssh["ruleId"], "sgr-0000000000"])
    assert "ruleIds[1]: rule sgr-0000000000 not found in security group" in message
    assert "more than once" in refused(400, "INVALID_ARGUMENT", remove, [ssh["ruleId"], ssh["ruleId"]])
    assert "ruleIds" in refused(400, "INVALID_ARGUMENT", remove, [])
    assert len(rules(vpc, group_id)) == 3  # refusals removed nothing
    vpcs, _ = nudged(fake_server, monkeypatch)
    remove([ssh["ruleId"], egress["ruleId"]])
    assert rules(vpc, group_id) == [icmp] and vpcs == [fake_server.admin.vpc_id]
    # A rule of another group is not this group's.
    other = create_group(vpc, "other")
    [other_rule] = rules(vpc, other)
    assert "not found" in refused(404, "NOT_FOUND", remove, [other_rule["ruleId"]])
    assert rules(vpc, other) == [other_rule]


def test_duplicate_rules_are_refused(fake_server) -> None:
    vpc = vpc_client(fake_server)
    group_id = create_group(vpc, "dups")
    add = lambda *specs: vpc.call("addNetworkSecurityGroupRules", group_id, list(specs))  # noqa: E731
    add(AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=22, toPort=22))
    egress, ssh = rules(vpc, group_id)
    # The same flow again (another description or priority does not make it another rule).
    message = refused(
        409,
        "ALREADY_EXISTS",
        add,
        AddSecurityGroupRules(17, 0, "10.0.0.0/8"),
        AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=22, toPort=22, description="again", priority=1),
    )
    assert "networkSecurityGroupRuleSpecs[1]" in message and ssh["ruleId"] in message
    message = refused(409, "ALREADY_EXISTS", add, AddSecurityGroupRules(300, 1, "0.0.0.0/0"))
    assert egress["ruleId"] in message
    message = refused(
        400,
        "INVALID_ARGUMENT",
        add,
        AddSecurityGroupRules(17, 0, "10.9.0.0/16"),
        AddSecurityGroupRules(17, 0, "10.9.0.0/16", fromPort=1, toPort=65535),
    )
    assert "networkSecurityGroupRuleSpecs[1]: the same rule as networkSecurityGroupRuleSpecs[0]" in message
    assert rules(vpc, group_id) == [egress, ssh]
    # Different ports, direction or prefix are different rules.
    add(
        AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=22, toPort=23),
        AddSecurityGroupRules(6, 1, "10.0.0.0/8", fromPort=22, toPort=22),
        AddSecurityGroupRules(6, 0, "10.0.0.0/9", fromPort=22, toPort=22),
    )
    assert len(rules(vpc, group_id)) == 5


def _rule(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "protocol": 6,
        "direction": 0,
        "addressPrefix": "10.0.0.0/8",
        "fromPort": 22,
        "toPort": 22,
        "description": None,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v != "DROP"}


# (case, rule as sent, text the message must contain)
BAD_RULES: list[tuple[str, dict[str, Any], str]] = [
    ("direction 2", _rule(direction=2), "networkSecurityGroupRuleSpecs[0].direction"),
    ("direction text", _rule(direction="0"), "networkSecurityGroupRuleSpecs[0].direction"),
    ("direction missing", _rule(direction="DROP"), "networkSecurityGroupRuleSpecs[0].direction"),
    ("protocol 7", _rule(protocol=7), "networkSecurityGroupRuleSpecs[0].protocol"),
    ("protocol text", _rule(protocol="6"), "networkSecurityGroupRuleSpecs[0].protocol"),
    ("protocol true", _rule(protocol=True), "networkSecurityGroupRuleSpecs[0].protocol"),
    ("prefix host bits", _rule(addressPrefix="10.0.0.1/8"), "host bits set; the network is 10.0.0.0/8"),
    ("prefix IPv6", _rule(addressPrefix="::/0"), "IPv6"),
    ("prefix junk", _rule(addressPrefix="ten"), "networkSecurityGroupRuleSpecs[0].addressPrefix"),
    ("prefix /33", _rule(addressPrefix="10.0.0.0/33"), "addressPrefix"),
    ("prefix missing", _rule(addressPrefix="DROP"), "addressPrefix: is required"),
    ("port 0 for TCP", _rule(fromPort=0), "networkSecurityGroupRuleSpecs[0].fromPort"),
    ("port 65536", _rule(toPort=65536), "networkSecurityGroupRuleSpecs[0].toPort"),
    ("port negative", _rule(fromPort=-1), "fromPort"),
    ("from above to", _rule(fromPort=90, toPort=80), "fromPort: 90 is above toPort 80"),
    ("ports for ICMP", _rule(protocol=1, fromPort=8, toPort=8), "protocol 1 has no ports"),
    ("ports for all", _rule(protocol=300, fromPort=None, toPort=80), "toPort: protocol 300 has no ports"),
    ("DENY", _rule(ruleAction="DENY"), "DENY rules are not offered"),
    ("rule action other", _rule(ruleAction="allow"), "ruleAction"),
    ("prefix list", _rule(addressPrefixType="PREFIXLIST"), "prefix lists are not offered"),
    ("priority 0", _rule(priority=0), "priority"),
    ("priority 101", _rule(priority=101), "priority"),
    ("description 257", _rule(description="x" * 257), "description"),
    ("unknown field", _rule(weight=3), "weight"),
]


@pytest.mark.parametrize(("rule", "text"), [(r, t) for _, r, t in BAD_RULES], ids=[c for c, _, _ in BAD_RULES])
def test_bad_rules_are_refused_and_change_nothing(fake_server, rule: dict[str, Any], text: str) -> None:
    vpc = vpc_client(fake_server)
    group_id = fake_server.admin.security_group_id
    before = rules(vpc, group_id)
    good = _rule(fromPort=443, toPort=443)
    message = refused(
        400,
        "INVALID_ARGUMENT",
        vpc.raw,
        "addNetworkSecurityGroupRules",
        {"networkSecurityGroupId": group_id, "networkSecurityGroupRuleSpecs": [rule, good]},
    )
    assert text in message
    assert rules(vpc, group_id) == before


def test_bad_groups_are_refused_and_change_nothing(fake_server) -> None:
    vpc = vpc_client(fake_server)
    create = lambda body: vpc.raw("createNetworkSecurityGroup", body)  # noqa: E731
    admin = fake_server.admin
    cases = [
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": "a b"}, "networkSecurityGroupName"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": "x" * 33}, "networkSecurityGroupName"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": ""}, "networkSecurityGroupName"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": "é"}, "networkSecurityGroupName"),
        ({"vpcId": admin.vpc_id}, "networkSecurityGroupName: is required"),
        ({"networkSecurityGroupName": "ok"}, "vpcId: is required"),
        ({"vpcId": "", "networkSecurityGroupName": "ok"}, "vpcId"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": "ok", "description": "d" * 257}, "description"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": 5}, "networkSecurityGroupName"),
        ({"vpcId": admin.vpc_id, "networkSecurityGroupName": "ok", "tags": ["x"]}, "tags"),
    ]
    for body, text in cases:
        assert text in refused(400, "INVALID_ARGUMENT", create, body), body
    assert "vpc vpc-0000000000 not found" in refused(
        404, "NOT_FOUND", create, {"vpcId": "vpc-0000000000", "networkSecurityGroupName": "ok"}
    )
    no_rules = {"networkSecurityGroupId": admin.security_group_id, "networkSecurityGroupRuleSpecs": []}
    message = refused(400, "INVALID_ARGUMENT", vpc.raw, "addNetworkSecurityGroupRules", no_rules)
    assert "networkSecurityGroupRuleSpecs" in message
    assert len(group(vpc, admin.security_group_id)["securityGroupRules"]) == 2
    assert vpc.call("describeNetworkSecurityGroups")["totalCount"] == 1


def test_modify_a_group(fake_server) -> None:
    vpc = vpc_client(fake_server)
    group_id = create_group(vpc, "before", description="old")
    vpc.call("modifyNetworkSecurityGroup", group_id, networkSecurityGroupName="after")
    assert group(vpc, group_id)["networkSecurityGroupName"] == "after"
    assert group(vpc, group_id)["description"] == "old"  # left out: kept
    vpc.call("modifyNetworkSecurityGroup", group_id, description="")
    assert group(vpc, group_id)["description"] == ""
    assert "networkSecurityGroupName" in refused(
        400, "INVALID_ARGUMENT", vpc.call, "modifyNetworkSecurityGroup", group_id, networkSecurityGroupName="a b"
    )
    assert "description" in refused(
        400, "INVALID_ARGUMENT", vpc.call, "modifyNetworkSecurityGroup", group_id, description="d" * 257
    )
    assert group(vpc, group_id)["networkSecurityGroupName"] == "after"
    # The default group keeps its name; its description may change.
    default = fake_server.admin.security_group_id
    message = refused(
        400, "FAILED_PRECONDITION", vpc.call, "modifyNetworkSecurityGroup", default, networkSecurityGroupName="mine"
    )
    assert "default group" in message
    vpc.call("modifyNetworkSecurityGroup", default, networkSecurityGroupName="default", description="the default")
    assert group(vpc, default)["networkSecurityGroupName"] == "default"
    assert group(vpc, default)["description"] == "the default"
    # The pods show the groups by their current names.
    [pod_id] = fake_server.jd().create_pods(pod_with_groups(fake_server.admin, "named", [default, group_id]))
    vpc.call("modifyNetworkSecurityGroup", group_id, networkSecurityGroupName="renamed")
    nic = fake_server.jd().pod(pod_id)["primaryNetworkInterface"]["networkInterface"]
    assert nic["securityGroups"] == [
        {"groupId": default, "groupName": "default"},
        {"groupId": group_id, "groupName": "renamed"},
    ]


def test_delete_a_group(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    group_id = create_group(vpc, "used")
    a, b = jd.create_pods(pod_with_groups(fake_server.admin, "user", [group_id]), 2)
    fake_server.settle()
    shown = group(vpc, group_id)
    nics = {jd.pod(p)["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"] for p in (a, b)}
    assert set(shown["networkInterfaceIds"]) == nics
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteNetworkSecurityGroup", group_id)
    assert f"used by pod(s) {', '.join(sorted([a, b]))}" in message  # made together: by id
    assert group(vpc, group_id)["networkSecurityGroupId"] == group_id
    for pod_id in (a, b):
        jd.call("deletePod", pod_id)
    fake_server.settle()
    vpcs, _ = nudged(fake_server, monkeypatch)
    vpc.call("deleteNetworkSecurityGroup", group_id)
    assert vpcs == [fake_server.admin.vpc_id]
    assert "not found" in refused(404, "NOT_FOUND", group, vpc, group_id)
    assert "not found" in refused(404, "NOT_FOUND", vpc.call, "deleteNetworkSecurityGroup", group_id)
    # The default group stays.
    default = fake_server.admin.security_group_id
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteNetworkSecurityGroup", default)
    assert "default group" in message and fake_server.admin.vpc_id in message
    assert len(group(vpc, default)["securityGroupRules"]) == 2


def _age(g: dict[str, Any]) -> tuple[str, str]:
    return g["createdTime"], g["networkSecurityGroupId"]


def test_group_listing_filters_and_pages(fake_server) -> None:
    vpc = vpc_client(fake_server)
    set_quota(fake_server, fake_server.admin, "security_group", 30)
    ids = [create_group(vpc, "same" if i % 2 else f"g{i}") for i in range(12)]
    other_vpc = vpc.create_vpc("second", "10.0.0.0/16")
    elsewhere = create_group(vpc, "same", other_vpc)
    made = [fake_server.admin.security_group_id, *ids, elsewhere]
    # Oldest first; groups made in the same second by id.
    everything = [g["networkSecurityGroupId"] for g in sorted((group(vpc, g) for g in made), key=_age)]

    def listed(**optional: Any) -> list[str]:
        return [
            g["networkSecurityGroupId"]
            for g in vpc.call("describeNetworkSecurityGroups", **optional)["networkSecurityGroups"]
        ]

    answer = vpc.call("describeNetworkSecurityGroups", pageSize=100)
    assert answer["totalCount"] == 14
    assert [g["networkSecurityGroupId"] for g in answer["networkSecurityGroups"]] == everything  # oldest first
    assert listed() == everything  # 20 a page by default
    assert listed(pageSize=10) == everything[:10]
    assert listed(pageNumber=2, pageSize=10) == everything[10:]
    assert listed(pageNumber=9, pageSize=10) == everything[10:]  # past the last page: the last page
    by = lambda *filters: listed(filters=list(filters))  # noqa: E731
    ordered = lambda chosen: [g for g in everything if g in chosen]  # noqa: E731
    assert by(Filter("networkSecurityGroupIds", [ids[3], ids[0]])) == ordered([ids[0], ids[3]])
    assert by(Filter("networkSecurityGroupNames", ["same"])) == ordered([*ids[1::2], elsewhere])
    assert by(Filter("networkSecurityGroupNames", ["same", "g0"])) == ordered([ids[0], *ids[1::2], elsewhere])
    assert by(Filter("vpcId", [other_vpc])) == [elsewhere]
    assert by(Filter("vpcId", [other_vpc]), Filter("networkSecurityGroupNames", ["g0"])) == []
    assert by(Filter("vpcId", ["vpc-0000000000"])) == []
    message = refused(400, "INVALID_ARGUMENT", by, Filter("color", ["red"]))
    assert "filters[0].name: unknown filter 'color'" in message
    message = refused(400, "INVALID_ARGUMENT", by, Filter("vpcId", [other_vpc, fake_server.admin.vpc_id]))
    assert "filters[0].values: filter vpcId takes exactly one value" in message
    assert "operator" in refused(400, "INVALID_ARGUMENT", by, Filter("vpcId", [other_vpc], operator="gt"))
    assert "pageSize" in refused(400, "INVALID_ARGUMENT", listed, pageSize=5)
    assert "pageNumber" in refused(400, "INVALID_ARGUMENT", listed, pageNumber=0)


def test_quotas_of_rules_and_groups(fake_server) -> None:
    vpc = vpc_client(fake_server)
    admin = fake_server.admin
    set_quota(fake_server, admin, "securityGroupRule", 3)
    group_id = create_group(vpc, "limited")  # 1 rule
    add = lambda *specs: vpc.call("addNetworkSecurityGroupRules", group_id, list(specs))  # noqa: E731
    message = refused(
        429,
        "QUOTA_EXCEEDED",
        add,
        AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=1, toPort=1),
        AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=2, toPort=2),
        AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=3, toPort=3),
    )
    assert "securityGroupRule quota exceeded: 1 in use, 3 asked, limit 3" in message
    assert len(rules(vpc, group_id)) == 1  # the whole request was refused
    add(AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=1, toPort=1))
    add(AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=2, toPort=2))
    refused(429, "QUOTA_EXCEEDED", add, AddSecurityGroupRules(6, 0, "10.0.0.0/8", fromPort=3, toPort=3))
    # describeQuota (the VPC service's) answers the limit enforced here.
    assert vpc.quota("securityGroupRule", group_id) == {
        "type": "securityGroupRule",
        "parentResourceId": group_id,
        "maxLimit": 3,
        "count": 3,
    }
    # Groups per VPC: the default group counts.
    set_quota(fake_server, admin, "security_group", 3)
    create_group(vpc, "third")
    message = refused(429, "QUOTA_EXCEEDED", create_group, vpc, "fourth")
    assert "security_group quota exceeded: 3 in use, 1 asked, limit 3" in message
    assert vpc.call("describeNetworkSecurityGroups")["totalCount"] == 3
    # Another VPC has its own count.
    other_vpc = vpc.create_vpc("second", "10.0.0.0/16")
    create_group(vpc, "elsewhere", other_vpc)


def test_pods_carry_groups_of_their_subnets_vpc(fake_server) -> None:
    jd = fake_server.jd()
    vpc = vpc_client(fake_server)
    admin = fake_server.admin
    extra = [create_group(vpc, f"g{i}") for i in range(5)]
    [pod_id] = jd.create_pods(pod_with_groups(admin, "five", extra))
    nic = jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]
    assert [g["groupId"] for g in nic["securityGroups"]] == extra
    assert group(vpc, extra[0])["networkInterfaceIds"] == [nic["networkInterfaceId"]]
    used = jd.call("describeQuota", "pod")["quota"]["used"]
    message = refused(
        400, "INVALID_ARGUMENT", jd.create_pods, pod_with_groups(admin, "six", [*extra, admin.security_group_id])
    )
    assert "securityGroups" in message
    message = refused(400, "INVALID_ARGUMENT", jd.create_pods, pod_with_groups(admin, "twice", [extra[0], extra[0]]))
    assert "securityGroups" in message and "repeat" in message
    other_vpc = vpc.create_vpc("second", "10.0.0.0/16")
    elsewhere = create_group(vpc, "elsewhere", other_vpc)
    message = refused(400, "INVALID_ARGUMENT", jd.create_pods, pod_with_groups(admin, "far", [elsewhere]))
    assert f"security group {elsewhere} is not in the subnet's VPC {admin.vpc_id}" in message
    bob = fake_server.new_account("bob")
    message = refused(404, "NOT_FOUND", jd.create_pods, pod_with_groups(admin, "theirs", [bob.security_group_id]))
    assert f"security group {bob.security_group_id} not found" in message
    assert jd.call("describeQuota", "pod")["quota"]["used"] == used


def test_another_accounts_groups_and_rules_are_unknown(fake_server) -> None:
    mine = vpc_client(fake_server)
    bob_account = fake_server.new_account("bob")
    bob = vpc_client(fake_server, bob_account)
    group_id = create_group(mine, "private")
    [rule] = rules(mine, group_id)
    before = group(mine, group_id)

    def unknown(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        message = refused(404, "NOT_FOUND", fn, *args, **kwargs)
        assert f"networkSecurityGroupId: security group {group_id} not found" in message

    unknown(bob.call, "describeNetworkSecurityGroup", group_id)
    unknown(bob.call, "modifyNetworkSecurityGroup", group_id, networkSecurityGroupName="mine")
    unknown(bob.call, "deleteNetworkSecurityGroup", group_id)
    unknown(bob.call, "addNetworkSecurityGroupRules", group_id, [AddSecurityGroupRules(1, 0, "10.0.0.0/8")])
    unknown(
        bob.call, "modifyNetworkSecurityGroupRules", group_id, [ModifySecurityGroupRules(rule["ruleId"], protocol=1)]
    )
    unknown(bob.call, "removeNetworkSecurityGroupRules", group_id, [rule["ruleId"]])
    # The admin's default group and VPC are as unknown to bob.
    message = refused(404, "NOT_FOUND", bob.call, "describeNetworkSecurityGroup", fake_server.admin.security_group_id)
    assert fake_server.admin.security_group_id in message
    message = refused(404, "NOT_FOUND", create_group, bob, "intruder", fake_server.admin.vpc_id)
    assert f"vpcId: vpc {fake_server.admin.vpc_id} not found" in message
    # A rule of mine on bob's own group is not found either.
    message = refused(
        404, "NOT_FOUND", bob.call, "removeNetworkSecurityGroupRules", bob_account.security_group_id, [rule["ruleId"]]
    )
    assert f"rule {rule['ruleId']} not found" in message
    listing = bob.call("describeNetworkSecurityGroups", filters=[Filter("networkSecurityGroupIds", [group_id])])
    assert listing == {"networkSecurityGroups": [], "totalCount": 0}
    assert [
        g["networkSecurityGroupId"] for g in bob.call("describeNetworkSecurityGroups")["networkSecurityGroups"]
    ] == [bob_account.security_group_id]
    assert group(mine, group_id) == before


def test_actions_podyard_does_not_offer_say_so(fake_server) -> None:
    vpc = vpc_client(fake_server)
    message = refused(
        501, "NOT_IMPLEMENTED", vpc.call, "describeNetworkSecurityGroupRules", fake_server.admin.security_group_id
    )
    assert "describeNetworkSecurityGroupRules" in message
