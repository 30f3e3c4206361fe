"""The pure rules of security groups and elastic IPs (domain/security_groups.py,
domain/elastic_ips.py)."""

from __future__ import annotations

import pytest

from podyard.domain import elastic_ips
from podyard.domain import security_groups as sg


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("0.0.0.0/0", "0.0.0.0/0"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("10.1.2.3", "10.1.2.3/32"),
        ("10.1.2.3/32", "10.1.2.3/32"),
        ("10.0.0.0/255.0.0.0", "10.0.0.0/8"),
    ],
)
def test_address_prefixes(given: str, stored: str) -> None:
    assert sg.address_prefix(given) == stored


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ("10.0.0.1/8", "host bits set; the network is 10.0.0.0/8"),
        ("0.0.0.1/0", "host bits set"),
        ("::/0", "IPv6"),
        ("10.0.0.0/33", "not an IPv4 CIDR"),
        ("", "not an IPv4 CIDR"),
        (" 10.0.0.0/8", "not an IPv4 CIDR"),
        ("010.0.0.0/8", "not an IPv4 CIDR"),
    ],
)
def test_bad_address_prefixes(given: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        sg.address_prefix(given)


@pytest.mark.parametrize(
    ("protocol", "low", "high", "ports"),
    [
        (sg.TCP, None, None, (1, 65535)),
        (sg.UDP, 53, None, (53, 65535)),
        (sg.TCP, None, 1024, (1, 1024)),
        (sg.TCP, 22, 22, (22, 22)),
        (sg.ICMP, None, None, (0, 0)),
        (sg.ICMP, 0, 0, (0, 0)),
        (sg.ALL_PROTOCOLS, None, 0, (0, 0)),
    ],
)
def test_ports(protocol: int, low: int | None, high: int | None, ports: tuple[int, int]) -> None:
    assert sg.ports(protocol, low, high) == ports


@pytest.mark.parametrize(
    ("protocol", "low", "high", "error"),
    [
        (sg.TCP, 0, 10, "fromPort: 0 is not a port"),
        (sg.UDP, 1, 65536, "toPort: 65536 is not a port"),
        (sg.TCP, 10, 9, "fromPort: 10 is above toPort 9"),
        (sg.TCP, 70000, None, "fromPort"),
        (sg.ICMP, 8, None, "fromPort: protocol 1 has no ports"),
        (sg.ALL_PROTOCOLS, None, 80, "toPort: protocol 300 has no ports"),
    ],
)
def test_bad_ports(protocol: int, low: int | None, high: int | None, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        sg.ports(protocol, low, high)


def test_starting_rules() -> None:
    out = sg.Rule(sg.EGRESS, sg.ALL_PROTOCOLS, "0.0.0.0/0", 0, 0)
    assert sg.allow_all_egress() == out
    assert sg.default_group_rules("10.240.3.0/24") == [
        sg.Rule(sg.INGRESS, sg.ALL_PROTOCOLS, "10.240.3.0/24", 0, 0),
        out,
    ]


def test_pool_addresses() -> None:
    assert elastic_ips.free_addresses("127.100.0.0/29", set(), 10) == [f"127.100.0.{i}" for i in range(1, 7)]
    used = {int.from_bytes(bytes([127, 100, 0, i]), "big") for i in (1, 3)}
    assert elastic_ips.free_addresses("127.100.0.0/29", used, 2) == ["127.100.0.2", "127.100.0.4"]
    assert elastic_ips.free_addresses("198.51.100.7/32", set(), 2) == ["198.51.100.7"]
    assert elastic_ips.free_addresses("198.51.100.6/31", set(), 5) == ["198.51.100.6", "198.51.100.7"]
    assert elastic_ips.pool_address_error("127.100.0.5", "127.100.0.0/29") is None
    assert "not in" in (elastic_ips.pool_address_error("127.100.0.9", "127.100.0.0/29") or "")
    assert "broadcast" in (elastic_ips.pool_address_error("127.100.0.7", "127.100.0.0/29") or "")
    assert elastic_ips.pool_address_error("198.51.100.7", "198.51.100.7/32") is None


def test_providers_by_region() -> None:
    assert elastic_ips.provider_error("bgp", "cn-north-1") is None
    assert "not offered in cn-north-1" in (elastic_ips.provider_error("no_bgp", "cn-north-1") or "")
    assert elastic_ips.provider_error("no_bgp", "cn-south-1") is None
    assert elastic_ips.provider_error("BGP", "cn-south-1") is not None
