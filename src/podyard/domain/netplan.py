"""What the host network of one VPC must be: its subnets' gateways, the pods' ports with
their addresses and security rules, and the elastic IPs mapped onto them. Built by the
store from what users asked for; made real by the network part (podyard.network)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

INGRESS, EGRESS = 0, 1
ALL_PROTOCOLS, TCP, UDP, ICMP = 300, 6, 17, 1


@dataclass(frozen=True)
class Rule:
    """One allowed flow: direction, protocol, the peer's address prefix, a port range
    (0-0 or a protocol without ports: every port)."""

    direction: int
    protocol: int
    prefix: str
    from_port: int = 0
    to_port: int = 0


@dataclass(frozen=True)
class ElasticIp:
    """``address`` is what clients use; ``inner`` is where the host routes it into the
    VPC: the address itself for a routed pool, a host-local stand-in for a loopback pool
    (the host's 127/8 is local and cannot be routed)."""

    address: str
    inner: str
    bandwidth_mbps: int


@dataclass(frozen=True)
class Port:
    """A pod's primary interface: its addresses (primary first), the subnet's prefix
    length and gateway, the union of its security groups' rules, its elastic IP."""

    pod_id: str
    ips: tuple[str, ...]
    prefixlen: int
    gateway: str
    rules: tuple[Rule, ...]
    elastic_ip: ElasticIp | None = None


@dataclass(frozen=True)
class VpcPlan:
    vpc_id: str
    gateways: tuple[str, ...]
    ports: tuple[Port, ...]

    def port(self, pod_id: str) -> Port | None:
        return next((p for p in self.ports if p.pod_id == pod_id), None)

    @property
    def elastic_ips(self) -> list[tuple[Port, ElasticIp]]:
        return [(p, p.elastic_ip) for p in self.ports if p.elastic_ip is not None]


def inner_address(address: str, pool: str, inner_pool: str) -> str:
    """The address the host routes an elastic IP by: itself, unless the pool is on the
    loopback, then the same offset in the host-local inner pool (past its first two
    addresses, which the host side of every VPC uplink uses)."""
    addr, net = ipaddress.IPv4Address(address), ipaddress.IPv4Network(pool)
    if not net.is_loopback:
        return address
    inner = ipaddress.IPv4Network(inner_pool)
    offset = int(addr) - int(net.network_address) + 2
    if offset >= inner.num_addresses:
        raise ValueError(f"the inner pool {inner_pool} is smaller than the elastic IP pool {pool}")
    return str(inner.network_address + offset)


def uplink_address(inner_pool: str) -> str:
    """The host side of every VPC's uplink: where a VPC sends what leaves it."""
    return str(ipaddress.IPv4Network(inner_pool).network_address + 1)
