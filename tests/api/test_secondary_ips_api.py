"""Secondary IPs of a pod's primary interface: given (secondaryIpAddresses) or counted
(secondaryIpCount), through the official SDK against podyard with the fake runtime."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor

import pytest

from drive.jd import JdError, container, pod_spec
from drive.jdvpc import JdVpc


def _host(cidr: str, n: int) -> str:
    return str(ipaddress.IPv4Network(cidr)[n])


def test_given_and_counted_secondary_ips_are_the_pods(fake_server) -> None:
    jd = fake_server.jd()
    vpc = JdVpc(fake_server.endpoint, jd.account)
    cidr = jd.account.subnet_cidr
    free_before = vpc.subnet(jd.account.subnet_id)["availableIpCount"]
    given = [_host(cidr, 40), _host(cidr, 41)]
    spec = pod_spec(
        jd.account, "multi", [container()], primary_ip=_host(cidr, 30), secondary_ips=given, secondary_count=2
    )
    [pod_id] = jd.create_pods(spec)
    fake_server.settle()
    nic = jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]
    shown = [ip["privateIpAddress"] for ip in nic["secondaryIps"]]
    # The given ones first, then the lowest free addresses of the subnet.
    assert shown == [*given, _host(cidr, 2), _host(cidr, 3)]
    assert nic["primaryIp"]["privateIpAddress"] == _host(cidr, 30)
    eni = vpc.call("describeNetworkInterface", nic["networkInterfaceId"])["networkInterface"]
    assert [ip["privateIpAddress"] for ip in eni["secondaryIps"]] == shown
    assert vpc.subnet(jd.account.subnet_id)["availableIpCount"] == free_before - 5

    # Every one of them is taken: as a primary IP, as a secondary IP, and by the search.
    for taken in shown:
        with pytest.raises(JdError, match="in use") as e:
            jd.create_pods(pod_spec(jd.account, "b", [container()], primary_ip=taken))
        assert e.value.code == 409
    with pytest.raises(JdError, match=r"secondaryIpAddresses\[0\]: .* is in use"):
        jd.create_pods(pod_spec(jd.account, "b", [container()], secondary_ips=[_host(cidr, 30)]))
    [other] = jd.create_pods(pod_spec(jd.account, "c", [container()], secondary_count=1))
    other_ips = jd.pod(other)["primaryNetworkInterface"]["networkInterface"]
    assert other_ips["primaryIp"]["privateIpAddress"] == _host(cidr, 4)
    assert [ip["privateIpAddress"] for ip in other_ips["secondaryIps"]] == [_host(cidr, 5)]

    # Deleting the pod frees all its addresses.
    jd.call("deletePod", pod_id)
    fake_server.settle()
    [again] = jd.create_pods(pod_spec(jd.account, "d", [container()], primary_ip=given[1], secondary_ips=[given[0]]))
    assert jd.pod(again)["privateIpAddress"] == given[1]


@pytest.mark.parametrize(
    ("secondary", "count", "code", "text"),
    [
        (["192.0.2.9"], None, 400, "secondaryIpAddresses[0]: 192.0.2.9 is not in the subnet"),
        ([".1"], None, 400, "reserved"),
        ([".50", ".50"], None, 400, "secondaryIpAddresses[1]: {net}.50 is given twice"),
        ([".60"] * 21, None, 400, "secondaryIpAddresses"),
        (None, 21, 400, "secondaryIpCount"),
        (None, 300, 400, "secondaryIpCount"),
    ],
)
def test_bad_secondary_ips_change_nothing(fake_server, secondary, count, code: int, text: str) -> None:
    jd = fake_server.jd()
    net = jd.account.subnet_cidr.rsplit(".", 1)[0]
    ips = [net + ip if ip.startswith(".") else ip for ip in secondary] if secondary else None
    with pytest.raises(JdError) as e:
        jd.create_pods(pod_spec(jd.account, "bad", [container()], secondary_ips=ips, secondary_count=count))
    assert e.value.code == code and text.format(net=net) in e.value.message, e.value
    assert jd.pods()["totalCount"] == 0
    assert not fake_server.runtime.pods


def test_a_full_subnet_refuses_counted_secondaries_and_creates_nothing(fake_server) -> None:
    jd = fake_server.jd()
    vpc = JdVpc(fake_server.endpoint, jd.account)
    vpc_id = vpc.create_vpc("small", "10.30.0.0/16")
    small = vpc.create_subnet(vpc_id, "small", "10.30.250.0/28")
    group = vpc.call("createNetworkSecurityGroup", vpc_id, "g")["networkSecurityGroupId"]
    spec = pod_spec(jd.account, "big", [container()], secondary_count=5)
    spec.primaryNetworkInterface.networkInterface.subnetId = small
    spec.primaryNetworkInterface.networkInterface.securityGroups = [group]
    with pytest.raises(JdError, match="13 free address"):
        jd.create_pods(spec, 3)  # 3 pods × 6 addresses > 13
    assert jd.pods()["totalCount"] == 0
    assert vpc.subnet(small)["availableIpCount"] == 13
    jd.create_pods(spec, 2)  # 12 fit
    assert vpc.subnet(small)["availableIpCount"] == 1


def test_concurrent_creates_never_share_an_address(fake_server) -> None:
    jd = fake_server.jd()

    def create(i: int) -> list[str]:
        try:
            return fake_server.jd().create_pods(pod_spec(jd.account, f"c{i}", [container()], secondary_count=3))
        except JdError as e:
            return [f"{e.code}"]

    with ThreadPoolExecutor(12) as pool:
        created = [p for ids in pool.map(create, range(12)) for p in ids]
    assert all(p.startswith("pod-") for p in created), created
    addresses = []
    for pod_id in created:
        nic = jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]
        addresses += [nic["primaryIp"]["privateIpAddress"]] + [ip["privateIpAddress"] for ip in nic["secondaryIps"]]
    assert len(addresses) == 48 and len(set(addresses)) == 48
