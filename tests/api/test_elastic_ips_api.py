"""Elastic IPs through the official SDK against podyard with the fake runtime: the VPC
service's create, describe, list and delete (VpcClient), and the pod service's
associate, disassociate, createPods' elasticIp and deletePod's flag (PodClient)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from jdcloud_sdk.services.charge.models.ChargeSpec import ChargeSpec
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.ElasticIpSpec import ElasticIpSpec as PodElasticIpSpec
from jdcloud_sdk.services.pod.models.TagFilter import TagFilter as PodTagFilter
from jdcloud_sdk.services.vm.models.Tag import Tag as VmTag
from jdcloud_sdk.services.vpc.models.ElasticIpSpec import ElasticIpSpec
from jdcloud_sdk.services.vpc.models.Tag import Tag
from jdcloud_sdk.services.vpc.models.TagFilter import TagFilter

from drive.jd import Account, Jd, JdError, container, pod_spec, spec_dict
from drive.jdvpc import JdVpc, nudged, set_quota
from podyard.services import accounts
from podyard.store import pods as pod_store

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
POOL = "127.100.0"  # the default pool, 127.100.0.0/24


def vpc_client(server: Any, account: Account | None = None) -> JdVpc:
    return JdVpc(server.endpoint, account or server.admin)


def refused(code: int, status: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(JdError) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.status) == (code, status), e.value
    return e.value.message


def create(vpc: JdVpc, count: int = 1, bandwidth: int = 10, provider: str = "bgp", **optional: Any) -> list[str]:
    return list(vpc.call("createElasticIps", count, ElasticIpSpec(bandwidth, provider), **optional)["elasticIpIds"])


def eip(vpc: JdVpc, eip_id: str) -> dict[str, Any]:
    return dict(vpc.call("describeElasticIp", eip_id)["elasticIp"])


def eips(vpc: JdVpc, **optional: Any) -> dict[str, Any]:
    return dict(vpc.call("describeElasticIps", **optional))


def count(vpc: JdVpc) -> int:
    return int(eips(vpc)["totalCount"])


def a_pod(jd: Jd, name: str, count: int = 1, **more: Any) -> list[str]:
    return jd.create_pods(pod_spec(jd.account, name, [container()], **more), count)


def nic(jd: Jd, pod_id: str) -> dict[str, Any]:
    return dict(jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"])


def test_create_and_describe(fake_server) -> None:
    vpc = vpc_client(fake_server)
    [eip_id] = create(vpc, 1, 25, elasticIpName="web_公网-1", userTags=[Tag("team", "a"), Tag("cost", None)])
    assert re.fullmatch(r"fip-[a-z0-9]{10}", eip_id)
    shown = eip(vpc, eip_id)
    assert TIME.match(shown["createdTime"]) and shown["charge"]["chargeStartTime"] == shown["createdTime"]
    assert shown == {
        "elasticIpId": eip_id,
        "elasticIpName": "web_公网-1",
        "elasticIpAddress": f"{POOL}.1",  # the lowest free address of the pool
        "elasticIpPoolId": None,
        "bandwidthMbps": 25,
        "provider": "bgp",
        "providerNameCN": None,
        "privateIpAddress": None,
        "networkInterfaceId": None,
        "instanceId": None,
        "instanceType": None,
        "charge": {
            "chargeMode": "postpaid_by_duration",
            "chargeStatus": "normal",
            "chargeStartTime": shown["createdTime"],
            "chargeExpiredTime": None,
            "chargeRetireTime": None,
        },
        "createdTime": shown["createdTime"],
        "az": None,
        "tags": [{"key": "team", "value": "a"}, {"key": "cost", "value": None}],
        "ipType": "standard",
        "bandwidthPackageId": None,
        "status": "NOT_ASSOCIATED",
        "state": "UP",
        "resourceGroupId": None,
    }
    # Several at once: the next lowest free addresses, each its own id.
    more = create(vpc, 3, 200, ipType="standard")
    assert [eip(vpc, i)["elasticIpAddress"] for i in more] == [f"{POOL}.2", f"{POOL}.3", f"{POOL}.4"]
    assert len({eip_id, *more}) == 4 and eip(vpc, more[0])["elasticIpName"] is None
    assert eip(vpc, more[0])["tags"] == [] and eip(vpc, more[0])["bandwidthMbps"] == 200
    # By usage.
    spec = ElasticIpSpec(1, "bgp", ChargeSpec(chargeMode="postpaid_by_usage"))
    [usage] = vpc.call("createElasticIps", 1, spec)["elasticIpIds"]
    assert eip(vpc, usage)["charge"]["chargeMode"] == "postpaid_by_usage"


def test_choose_an_address(fake_server) -> None:
    vpc = vpc_client(fake_server)
    [chosen] = create(vpc, elasticIpAddress=f"{POOL}.200")
    assert eip(vpc, chosen)["elasticIpAddress"] == f"{POOL}.200"
    assert eip(vpc, create(vpc)[0])["elasticIpAddress"] == f"{POOL}.1"  # the lowest free, still
    message = refused(409, "ALREADY_EXISTS", create, vpc, elasticIpAddress=f"{POOL}.200")
    assert f"elasticIpAddress: {POOL}.200 is in use" in message
    bob = vpc_client(fake_server, fake_server.new_account("bob"))
    refused(409, "ALREADY_EXISTS", create, bob, elasticIpAddress=f"{POOL}.1")  # the pool is shared
    assert eip(bob, create(bob)[0])["elasticIpAddress"] == f"{POOL}.2"
    for address, text in (
        ("10.0.0.1", "not in this podyard's elastic IP pool 127.100.0.0/24"),
        (f"{POOL}.0", "network or broadcast address"),
        (f"{POOL}.255", "network or broadcast address"),
        ("127.100.0", "elasticIpAddress"),
    ):
        assert text in refused(400, "INVALID_ARGUMENT", create, vpc, elasticIpAddress=address)
    message = refused(400, "INVALID_ARGUMENT", create, vpc, 2, elasticIpAddress=f"{POOL}.100")
    assert "maxCount must be 1 when elasticIpAddress is given" in message
    assert count(vpc) == 2


# (case, parameters as sent, text the message must contain)
BAD_CREATES: list[tuple[str, dict[str, Any], str]] = [
    ("maxCount 0", {"maxCount": 0}, "maxCount"),
    ("maxCount 101", {"maxCount": 101}, "maxCount"),
    ("maxCount text", {"maxCount": "1"}, "maxCount"),
    ("spec missing", {"elasticIpSpec": None}, "elasticIpSpec"),
    ("bandwidth 0", {"elasticIpSpec": {"bandwidthMbps": 0, "provider": "bgp"}}, "elasticIpSpec.bandwidthMbps"),
    ("bandwidth 201", {"elasticIpSpec": {"bandwidthMbps": 201, "provider": "bgp"}}, "elasticIpSpec.bandwidthMbps"),
    ("provider missing", {"elasticIpSpec": {"bandwidthMbps": 5}}, "elasticIpSpec.provider: is required"),
    (
        "provider no_bgp here",
        {"elasticIpSpec": {"bandwidthMbps": 5, "provider": "no_bgp"}},
        "not offered in cn-north-1",
    ),
    ("provider other", {"elasticIpSpec": {"bandwidthMbps": 5, "provider": "cmcc"}}, "elasticIpSpec.provider"),
    (
        "prepaid",
        {"elasticIpSpec": {"bandwidthMbps": 5, "provider": "bgp", "chargeSpec": {"chargeMode": "prepaid_by_duration"}}},
        "prepaid elastic IPs are not offered",
    ),
    (
        "charge mode other",
        {"elasticIpSpec": {"bandwidthMbps": 5, "provider": "bgp", "chargeSpec": {"chargeMode": "free"}}},
        "chargeMode",
    ),
    ("name bad", {"elasticIpName": "a b"}, "elasticIpName"),
    ("name 33", {"elasticIpName": "x" * 33}, "elasticIpName"),
    ("pool id", {"elasticIpPoolId": "pool-1"}, "elasticIpPoolId"),
    ("edge", {"ipType": "edge"}, "edge elastic IPs are not offered"),
    ("ip type other", {"ipType": "cheap"}, "ipType"),
    ("resource group", {"resourceGroupId": "rg-1"}, "resourceGroupId"),
    ("dry run", {"dryRun": True}, "dryRun"),
    ("tag key empty", {"userTags": [{"key": "", "value": "x"}]}, "userTags[0].key"),
    ("unknown field", {"color": "red"}, "color"),
]


@pytest.mark.parametrize(("changes", "text"), [(c, t) for _, c, t in BAD_CREATES], ids=[n for n, _, _ in BAD_CREATES])
def test_bad_creates_are_refused_and_change_nothing(fake_server, changes: dict[str, Any], text: str) -> None:
    vpc = vpc_client(fake_server)
    body: dict[str, Any] = {"maxCount": 1, "elasticIpSpec": {"bandwidthMbps": 5, "provider": "bgp"}, **changes}
    body = {k: v for k, v in body.items() if v is not None}
    assert text in refused(400, "INVALID_ARGUMENT", vpc.raw, "createElasticIps", body)
    assert count(vpc) == 0


def test_pool_exhaustion_creates_nothing(fake_server) -> None:
    vpc = vpc_client(fake_server)
    fake_server.app.ctx.elastic_ip_pool = "127.100.0.0/29"  # 6 usable addresses
    create(vpc, 2)
    message = refused(400, "FAILED_PRECONDITION", create, vpc, 5)
    assert "the elastic IP pool 127.100.0.0/29 has 4 free address(es), 5 asked" in message
    assert count(vpc) == 2
    create(vpc, 4)
    assert "127.100.0.0/29 has 0 free" in refused(400, "FAILED_PRECONDITION", create, vpc)
    assert sorted(e["elasticIpAddress"] for e in eips(vpc)["elasticIps"]) == [f"{POOL}.{i}" for i in range(1, 7)]
    # A deleted address is free again, and taken first.
    third = next(e for e in eips(vpc)["elasticIps"] if e["elasticIpAddress"] == f"{POOL}.3")
    vpc.call("deleteElasticIp", third["elasticIpId"])
    assert eip(vpc, create(vpc)[0])["elasticIpAddress"] == f"{POOL}.3"


def test_quota(fake_server) -> None:
    vpc = vpc_client(fake_server)
    set_quota(fake_server, fake_server.admin, "elastic_ip", 3)
    message = refused(429, "QUOTA_EXCEEDED", create, vpc, 4)
    assert "elastic_ip quota exceeded: 0 in use, 4 asked, limit 3" in message
    assert count(vpc) == 0
    create(vpc, 3)
    refused(429, "QUOTA_EXCEEDED", create, vpc)
    assert vpc.quota("elastic_ip")["count"] == 3 and vpc.quota("elastic_ip")["maxLimit"] == 3
    # Another account has its own.
    bob = vpc_client(fake_server, fake_server.new_account("bob"))
    create(bob, 4)


def test_listing_filters_and_pages(fake_server) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    ids = create(vpc, 6, elasticIpName="six", userTags=[Tag("team", "a")])
    ids += create(vpc, 6, 20, userTags=[Tag("team", "b")])
    [named] = create(vpc, elasticIpName="one")
    everything = [*ids, named]
    [pod_id] = a_pod(jd, "holder")
    jd.call("associateElasticIp", pod_id, ids[2])

    def listed(**optional: Any) -> list[str]:
        return [e["elasticIpId"] for e in eips(vpc, **optional)["elasticIps"]]

    answer = eips(vpc, pageSize=100)
    assert answer["totalCount"] == 13
    assert sorted(listed(pageSize=100)) == sorted(everything)
    order = listed(pageSize=100)
    assert listed(pageSize=10) == order[:10] and listed(pageNumber=2, pageSize=10) == order[10:]
    assert listed(pageNumber=5, pageSize=10) == order[10:]  # past the last page: the last page
    assert listed() == order  # 20 a page by default
    by = lambda *filters, **more: sorted(listed(filters=list(filters), **more))  # noqa: E731
    assert by(Filter("elasticIpIds", [ids[0], ids[5]])) == sorted([ids[0], ids[5]])
    assert by(Filter("elasticIpNames", ["one"])) == [named]
    assert by(Filter("elasticIpNames", ["six", "one"])) == sorted([*ids[:6], named])
    assert by(Filter("elasticIpAddress", [f"{POOL}.4"])) == [ids[3]]
    assert by(Filter("status", ["ASSOCIATED"])) == [ids[2]]
    assert len(by(Filter("status", ["NOT_ASSOCIATED"]))) == 12 and len(by(Filter("status", ["ALL"]))) == 13
    assert len(by(Filter("providers", ["bgp", "no_bgp"]))) == 13 and by(Filter("providers", ["no_bgp"])) == []
    assert len(by(Filter("chargeStatus", ["normal"]))) == 13 and by(Filter("chargeStatus", ["arrear"])) == []
    assert len(by(Filter("ipType", ["standard"]))) == 13 and len(by(Filter("ipType", ["all"]))) == 13
    assert by(Filter("ipType", ["edge"])) == []
    for name, value in (("elasticIpPoolId", "pool-1"), ("bandwidthPackageId", "bwp-1")):
        assert by(Filter(name, [value])) == []  # no such pool or package here
    for name, value in (("azs", "cn-north-1a"), ("resourceTag", "zone-1")):
        assert f"filters[0].name: {name}:" in refused(400, "INVALID_ARGUMENT", by, Filter(name, [value]))
    assert by(tags=[TagFilter("team", ["b"])]) == sorted(ids[6:])
    assert by(Filter("elasticIpNames", ["six"]), tags=[TagFilter("team", ["a", "b"])]) == sorted(ids[:6])
    assert by(tags=[TagFilter("team")]) == sorted(ids)
    assert listed(tags=[TagFilter("team", ["b"])], pageSize=10) == [i for i in order if i in ids[6:]]
    assert "resourceGroupIds" in refused(400, "INVALID_ARGUMENT", by, resourceGroupIds=["rg-1"])
    assert "filters[0].name: unknown filter 'color'" in refused(400, "INVALID_ARGUMENT", by, Filter("color", ["x"]))
    message = refused(400, "INVALID_ARGUMENT", by, Filter("elasticIpAddress", [f"{POOL}.1", f"{POOL}.2"]))
    assert "filters[0].values: filter elasticIpAddress takes exactly one value" in message
    assert "status is one of" in refused(400, "INVALID_ARGUMENT", by, Filter("status", ["BOUND"]))
    assert "chargeStatus is one of" in refused(400, "INVALID_ARGUMENT", by, Filter("chargeStatus", ["late"]))
    assert "pageSize" in refused(400, "INVALID_ARGUMENT", listed, pageSize=101)
    # An account in arrears: every address's charge status is arrear.
    accounts.set_standing(fake_server.app.ctx, "admin", in_arrears=True)
    fake_server.app.keys.clear()  # the standing shows at once, not after the cache's TTL
    assert len(by(Filter("chargeStatus", ["arrear"]))) == 13 and by(Filter("chargeStatus", ["normal"])) == []
    assert {e["charge"]["chargeStatus"] for e in eips(vpc, pageSize=100)["elasticIps"]} == {"arrear"}


def test_delete(fake_server) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    free, held = create(vpc, 2)
    [pod_id] = a_pod(jd, "holder")
    jd.call("associateElasticIp", pod_id, held)
    vpc.call("deleteElasticIp", free)
    assert f"elasticIpId: elastic IP {free} not found" in refused(404, "NOT_FOUND", eip, vpc, free)
    assert "not found" in refused(404, "NOT_FOUND", vpc.call, "deleteElasticIp", free)
    message = refused(400, "FAILED_PRECONDITION", vpc.call, "deleteElasticIp", held)
    assert f"associated with pod {pod_id}" in message
    assert eip(vpc, held)["instanceId"] == pod_id
    jd.call("disassociateElasticIp", pod_id, held)
    vpc.call("deleteElasticIp", held)
    assert count(vpc) == 0


def test_associate_and_disassociate(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    first, second = create(vpc, 2)
    a, b = a_pod(jd, "web", 2, userTags=[VmTag("team", "a")])
    fake_server.settle()
    vpcs, pods = nudged(fake_server, monkeypatch)
    jd.call("associateElasticIp", a, first)
    assert vpcs == [jd.account.vpc_id] and pods == [a]
    pod = jd.pod(a)
    address = eip(vpc, first)["elasticIpAddress"]
    assert pod["elasticIp"] == {"elasticIpId": first, "elasticIpAddress": address}
    primary = pod["primaryNetworkInterface"]["networkInterface"]["primaryIp"]
    assert primary == {"privateIpAddress": pod["privateIpAddress"], "elasticIpId": first, "elasticIpAddress": address}
    shown = eip(vpc, first)
    assert (shown["instanceId"], shown["instanceType"], shown["status"]) == (a, "pod", "ASSOCIATED")
    assert shown["networkInterfaceId"] == nic(jd, a)["networkInterfaceId"]
    assert shown["privateIpAddress"] == pod["privateIpAddress"]
    # The listings show it too, through both read paths of the store (raw SQLite, and
    # SQLAlchemy for a tags filter), which agree.
    listed = {p["podId"]: p for p in jd.pods()["pods"]}
    assert listed[a]["elasticIp"]["elasticIpId"] == first and listed[b]["elasticIp"] is None
    tagged = {p["podId"]: p for p in jd.pods(tags=[PodTagFilter("team", ["a"])])["pods"]}
    assert tagged[a]["elasticIp"] == pod["elasticIp"] and tagged[b]["elasticIp"] is None
    db = fake_server.app.ctx.db
    raw = pod_store.read_pod(db, None, None, a)
    with db.read() as s:
        assert pod_store.get_any(s, a) == raw
    assert raw is not None and raw.elastic_ip == (first, address)
    # One per pod, one pod per address.
    message = refused(400, "FAILED_PRECONDITION", jd.call, "associateElasticIp", a, second)
    assert f"pod {a} has elastic IP {first}" in message
    message = refused(400, "FAILED_PRECONDITION", jd.call, "associateElasticIp", b, first)
    assert f"is associated with pod {a}" in message
    message = refused(400, "FAILED_PRECONDITION", jd.call, "associateElasticIp", a, first)
    assert "already" in message
    assert jd.pod(b)["elasticIp"] is None and eip(vpc, second)["instanceId"] is None
    # Disassociating the wrong address, or from a pod with none, is refused.
    message = refused(400, "FAILED_PRECONDITION", jd.call, "disassociateElasticIp", a, second)
    assert f"elastic IP {second} is not associated with pod {a} (the pod has elastic IP {first})" in message
    message = refused(400, "FAILED_PRECONDITION", jd.call, "disassociateElasticIp", b, first)
    assert "the pod has no elastic IP" in message
    assert eip(vpc, first)["instanceId"] == a
    jd.call("disassociateElasticIp", a, first)
    assert vpcs[-1] == jd.account.vpc_id and pods[-1] == a
    assert jd.pod(a)["elasticIp"] is None
    assert jd.pod(a)["primaryNetworkInterface"]["networkInterface"]["primaryIp"]["elasticIpId"] is None
    assert eip(vpc, first)["status"] == "NOT_ASSOCIATED" and eip(vpc, first)["networkInterfaceId"] is None
    refused(400, "FAILED_PRECONDITION", jd.call, "disassociateElasticIp", a, first)
    # Free again: it goes to the other pod.
    jd.call("associateElasticIp", b, first)
    assert jd.pod(b)["elasticIp"]["elasticIpId"] == first
    # A stopped pod can have one as well.
    jd.call("stopPod", a)
    fake_server.settle()
    jd.call("associateElasticIp", a, second)
    assert jd.pod(a)["elasticIp"]["elasticIpId"] == second


def test_associate_bad_input(fake_server) -> None:
    jd = fake_server.jd()
    [pod_id] = a_pod(jd, "web")
    for body, text in (
        ({}, "elasticIpId: is required"),
        ({"elasticIpId": ""}, "elasticIpId"),
        ({"elasticIpId": 5}, "elasticIpId"),
        ({"elasticIpId": "fip-1", "privateIpAddress": "10.0.0.1"}, "privateIpAddress"),
    ):
        for action in ("associateElasticIp", "disassociateElasticIp"):
            assert text in refused(400, "INVALID_ARGUMENT", jd.raw, action, {"podId": pod_id, **body})
    message = refused(404, "NOT_FOUND", jd.call, "associateElasticIp", pod_id, "fip-0000000000")
    assert "elasticIpId: elastic IP fip-0000000000 not found" in message
    [eip_id] = create(vpc_client(fake_server))
    message = refused(404, "NOT_FOUND", jd.call, "associateElasticIp", "pod-0000000000", eip_id)
    assert "podId: pod pod-0000000000 not found" in message
    assert jd.pod(pod_id)["elasticIp"] is None


def test_standing_rules(fake_server) -> None:
    newbie_account = fake_server.new_account("newbie", verified=False)
    newbie = vpc_client(fake_server, newbie_account)
    message = refused(403, "HTTP_FORBIDDEN", create, newbie)
    assert "real-name verification; createElasticIps is refused" in message
    assert count(newbie) == 0
    # A debtor can neither buy an address nor associate one; disassociating is allowed.
    debtor_account = fake_server.new_account("debtor")
    debtor, jd = vpc_client(fake_server, debtor_account), fake_server.jd(debtor_account)
    first, second = create(debtor, 2)
    a, b = a_pod(jd, "web", 2)
    jd.call("associateElasticIp", a, first)
    accounts.set_standing(fake_server.app.ctx, "debtor", in_arrears=True)
    assert "in arrears; createElasticIps is refused" in refused(403, "HTTP_FORBIDDEN", create, debtor)
    message = refused(403, "HTTP_FORBIDDEN", jd.call, "associateElasticIp", b, second)
    assert f"in arrears; associateElasticIp on pod {b} is refused" in message
    jd.call("disassociateElasticIp", a, first)
    assert jd.pod(b)["elasticIp"] is None and jd.pod(a)["elasticIp"] is None
    # Unverified: no association either (its pods were made before the flag changed).
    accounts.set_standing(fake_server.app.ctx, "debtor", in_arrears=False, verified=False)
    message = refused(403, "HTTP_FORBIDDEN", jd.call, "associateElasticIp", b, second)
    assert "real-name verification" in message


def test_another_accounts_addresses_and_pods_are_unknown(fake_server) -> None:
    mine, jd = vpc_client(fake_server), fake_server.jd()
    bob_account = fake_server.new_account("bob")
    bob, bob_jd = vpc_client(fake_server, bob_account), fake_server.jd(bob_account)
    [my_eip] = create(mine)
    [bob_eip] = create(bob)
    [my_pod] = a_pod(jd, "mine")
    [bob_pod] = a_pod(bob_jd, "bobs")
    before = eip(mine, my_eip)
    gone = f"elasticIpId: elastic IP {my_eip} not found"
    assert gone in refused(404, "NOT_FOUND", eip, bob, my_eip)
    assert gone in refused(404, "NOT_FOUND", bob.call, "deleteElasticIp", my_eip)
    assert gone in refused(404, "NOT_FOUND", bob_jd.call, "associateElasticIp", bob_pod, my_eip)
    assert gone in refused(404, "NOT_FOUND", bob_jd.call, "disassociateElasticIp", bob_pod, my_eip)
    pod_gone = f"podId: pod {my_pod} not found"
    assert pod_gone in refused(404, "NOT_FOUND", bob_jd.call, "associateElasticIp", my_pod, bob_eip)
    assert pod_gone in refused(404, "NOT_FOUND", bob_jd.call, "disassociateElasticIp", my_pod, bob_eip)
    assert eips(bob, filters=[Filter("elasticIpIds", [my_eip])]) == {"elasticIps": [], "totalCount": 0}
    assert [e["elasticIpId"] for e in eips(bob)["elasticIps"]] == [bob_eip]
    # Mine, associated: still unknown to bob.
    jd.call("associateElasticIp", my_pod, my_eip)
    assert gone in refused(404, "NOT_FOUND", bob_jd.call, "disassociateElasticIp", bob_pod, my_eip)
    assert eip(mine, my_eip)["instanceId"] == my_pod and before["instanceId"] is None
    assert jd.pod(my_pod)["elasticIp"]["elasticIpId"] == my_eip and bob_jd.pod(bob_pod)["elasticIp"] is None


def test_create_pods_with_an_elastic_ip(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    vpcs, _ = nudged(fake_server, monkeypatch)
    a, b = a_pod(jd, "public", 2, elasticIp=PodElasticIpSpec(50))
    assert vpcs == [jd.account.vpc_id]
    shown = {p: jd.pod(p)["elasticIp"] for p in (a, b)}
    assert shown[a]["elasticIpAddress"] != shown[b]["elasticIpAddress"]
    assert {s["elasticIpAddress"] for s in shown.values()} == {f"{POOL}.1", f"{POOL}.2"}
    for pod_id, pod_eip in shown.items():
        e = eip(vpc, pod_eip["elasticIpId"])
        assert (e["instanceId"], e["bandwidthMbps"], e["provider"], e["status"]) == (pod_id, 50, "bgp", "ASSOCIATED")
        assert e["charge"]["chargeMode"] == "postpaid_by_duration"
        assert e["elasticIpAddress"] == pod_eip["elasticIpAddress"]
    assert count(vpc) == 2
    [c] = a_pod(jd, "upper", elasticIp=PodElasticIpSpec(1, "BGP"))
    assert eip(vpc, jd.pod(c)["elasticIp"]["elasticIpId"])["provider"] == "bgp"


def test_create_pods_with_elastic_ips_is_all_or_nothing(fake_server) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    fake_server.app.ctx.elastic_ip_pool = "127.100.0.0/30"  # 2 usable addresses
    create(vpc)
    pods_before = jd.call("describeQuota", "pod")["quota"]["used"]
    message = refused(400, "FAILED_PRECONDITION", a_pod, jd, "crowd", 2, elasticIp=PodElasticIpSpec(5))
    assert "podSpec.elasticIp: the elastic IP pool 127.100.0.0/30 has 1 free address(es), 2 asked" in message
    assert jd.call("describeQuota", "pod")["quota"]["used"] == pods_before and count(vpc) == 1
    assert jd.pods()["totalCount"] == 0
    fake_server.app.ctx.elastic_ip_pool = "127.100.0.0/24"
    set_quota(fake_server, fake_server.admin, "elastic_ip", 2)
    message = refused(429, "QUOTA_EXCEEDED", a_pod, jd, "crowd", 2, elasticIp=PodElasticIpSpec(5))
    assert "elastic_ip quota exceeded: 1 in use, 2 asked, limit 2" in message
    assert jd.pods()["totalCount"] == 0 and count(vpc) == 1
    # Bad elasticIp specs: 400, naming the field, nothing made.
    for changes, text in (
        ({"bandwidthMbps": 101}, "podSpec.elasticIp.bandwidthMbps"),
        ({"bandwidthMbps": 0}, "podSpec.elasticIp.bandwidthMbps"),
        ({"bandwidthMbps": 5, "provider": "no_bgp"}, "podSpec.elasticIp.provider: 'no_bgp' is not offered"),
        ({"bandwidthMbps": 5, "provider": "cmcc"}, "podSpec.elasticIp.provider"),
        ({"bandwidthMbps": 5, "chargeSpec": {"chargeMode": "prepaid_by_duration", "chargeDuration": 1}}, "prepaid"),
        ({"provider": "bgp"}, "podSpec.elasticIp.bandwidthMbps: is required"),
    ):
        spec = spec_dict(pod_spec(jd.account, "bad", [container()]))
        spec["elasticIp"] = changes
        message = refused(400, "INVALID_ARGUMENT", jd.raw, "createPods", {"podSpec": spec, "maxCount": 1})
        assert text in message, changes
    assert jd.pods()["totalCount"] == 0 and count(vpc) == 1


def test_delete_pod_with_and_without_its_elastic_ip(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    kept_pod, dropped_pod = a_pod(jd, "web", 2, elasticIp=PodElasticIpSpec(5))
    [plain] = a_pod(jd, "plain")
    fake_server.settle()
    kept = jd.pod(kept_pod)["elasticIp"]["elasticIpId"]
    dropped = jd.pod(dropped_pod)["elasticIp"]["elasticIpId"]
    vpcs, _ = nudged(fake_server, monkeypatch)
    jd.call("deletePod", kept_pod)
    assert vpcs == [jd.account.vpc_id]
    shown = eip(vpc, kept)
    assert (shown["status"], shown["instanceId"], shown["networkInterfaceId"]) == ("NOT_ASSOCIATED", None, None)
    jd.call("deletePod", dropped_pod, deletePrimaryNetworkInterfaceAllElasticIp=True)
    assert vpcs == [jd.account.vpc_id] * 2
    assert "not found" in refused(404, "NOT_FOUND", eip, vpc, dropped)
    jd.call("deletePod", plain, deletePrimaryNetworkInterfaceAllElasticIp=True)  # none to release
    assert len(vpcs) == 2
    fake_server.settle()
    assert jd.pods()["totalCount"] == 0
    assert [e["elasticIpId"] for e in eips(vpc)["elasticIps"]] == [kept]
    # The kept address serves another pod.
    [again] = a_pod(jd, "again")
    jd.call("associateElasticIp", again, kept)
    assert jd.pod(again)["elasticIp"]["elasticIpId"] == kept


def test_actions_podyard_does_not_offer_say_so(fake_server) -> None:
    vpc = vpc_client(fake_server)
    for action, args in (
        ("describeElasticIpPools", ()),
        ("createElasticIpPool", ("pool", "bgp")),
    ):
        assert action in refused(501, "NOT_IMPLEMENTED", vpc.call, action, *args)
    # The VPC service's own association, on an interface: the pod service's does it.
    [eip_id] = create(vpc)
    for action in ("associateElasticIp", "disassociateElasticIp"):
        message = refused(501, "NOT_IMPLEMENTED", vpc.call, action, "port-0000000000", elasticIpId=eip_id)
        assert f"use the pod service's {action}" in message
    assert eip(vpc, eip_id)["status"] == "NOT_ASSOCIATED"


def test_modify(fake_server, monkeypatch) -> None:
    vpc = vpc_client(fake_server)
    jd = fake_server.jd()
    [eip_id] = create(vpc, 1, 10, elasticIpName="before")
    vpc.call("modifyElasticIp", eip_id, bandwidthMbps=200)
    shown = eip(vpc, eip_id)
    assert (shown["bandwidthMbps"], shown["elasticIpName"]) == (200, "before")  # left out: kept
    vpc.call("modifyElasticIp", eip_id, elasticIpName="after")
    assert (eip(vpc, eip_id)["bandwidthMbps"], eip(vpc, eip_id)["elasticIpName"]) == (200, "after")
    for body, text in (
        ({"bandwidthMbps": 0}, "bandwidthMbps"),
        ({"bandwidthMbps": 201}, "bandwidthMbps"),
        ({"bandwidthMbps": "5"}, "bandwidthMbps"),
        ({"elasticIpName": "a b"}, "elasticIpName"),
        ({"tempUpgradeEndTime": "2030-01-01 00:00:00"}, "tempUpgradeEndTime"),
    ):
        message = refused(400, "INVALID_ARGUMENT", vpc.raw, "modifyElasticIp", {"elasticIpId": eip_id, **body})
        assert text in message
    assert eip(vpc, eip_id) == {**shown, "elasticIpName": "after"}
    bob = vpc_client(fake_server, fake_server.new_account("bob"))
    message = refused(404, "NOT_FOUND", bob.call, "modifyElasticIp", eip_id, bandwidthMbps=1)
    assert f"elasticIpId: elastic IP {eip_id} not found" in message
    assert eip(vpc, eip_id)["bandwidthMbps"] == 200
    # The network of a pod that has the address follows a new bandwidth.
    [pod_id] = a_pod(jd, "web")
    jd.call("associateElasticIp", pod_id, eip_id)
    vpcs, pods = nudged(fake_server, monkeypatch)
    vpc.call("modifyElasticIp", eip_id, elasticIpName="renamed")
    assert vpcs == [] and pods == []
    vpc.call("modifyElasticIp", eip_id, bandwidthMbps=3)
    assert vpcs == [jd.account.vpc_id] and pods == [pod_id] and eip(vpc, eip_id)["bandwidthMbps"] == 3


def test_concurrent_creates_never_share_an_elastic_ip(fake_server) -> None:
    """Two accounts draw from one pool at once, by createElasticIps and by createPods."""
    from concurrent.futures import ThreadPoolExecutor

    bob = fake_server.new_account("bob-concurrent")
    accounts_ = [fake_server.admin, bob]

    def make(i: int) -> list[str]:
        account = accounts_[i % 2]
        try:
            if i % 4 < 2:
                return create(vpc_client(fake_server, account), 2)
            jd = fake_server.jd(account)
            [pod_id] = a_pod(jd, f"c{i}", elasticIp=PodElasticIpSpec(5))
            return [jd.pod(pod_id)["elasticIp"]["elasticIpId"]]
        except JdError as e:
            return [f"{e.code}"]

    with ThreadPoolExecutor(12) as pool:
        made = [e for ids in pool.map(make, range(16)) for e in ids]
    assert all(e.startswith("fip-") for e in made), made
    assert len(made) == 24
    addresses = [
        e["elasticIpAddress"] for a in accounts_ for e in eips(vpc_client(fake_server, a), pageSize=100)["elasticIps"]
    ]
    assert len(addresses) == 24 and len(set(addresses)) == 24
