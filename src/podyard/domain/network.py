"""Address rules of subnets: which addresses a pod may have, and the next free one."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable


def gateway_of(cidr: str) -> str:
    return str(ipaddress.IPv4Network(cidr)[1])


def pod_address_error(ip: str, cidr: str) -> str | None:
    """A pod address lies in the subnet and is not its network, gateway or broadcast address."""
    net = ipaddress.IPv4Network(cidr)
    addr = ipaddress.IPv4Address(ip)
    if addr not in net:
        return f"{ip} is not in the subnet {cidr}"
    if addr in (net.network_address, net[1], net.broadcast_address):
        return f"{ip} is reserved in the subnet {cidr} (network, gateway or broadcast address)"
    return None


def free_addresses(cidr: str, used: Iterable[int]) -> Iterable[str]:
    """The subnet's assignable addresses not in ``used`` (addresses as integers), lowest
    first; the network, gateway and broadcast addresses are never assignable."""
    net = ipaddress.IPv4Network(cidr)
    taken = set(used)
    for n in range(int(net.network_address) + 2, int(net.broadcast_address)):
        if n not in taken:
            yield str(ipaddress.IPv4Address(n))


def nth_subnet(pool: str, prefix: int, n: int) -> str:
    """The n-th subnet of size /prefix in the pool (for accounts' default subnets)."""
    net = ipaddress.IPv4Network(pool)
    if prefix < net.prefixlen:
        raise ValueError(f"/{prefix} subnets do not fit in {pool}")
    count = 2 ** (prefix - net.prefixlen)
    if n >= count:
        raise ValueError(f"the pool {pool} has no more /{prefix} subnets")
    size = 2 ** (32 - prefix)
    return str(ipaddress.IPv4Network((int(net.network_address) + n * size, prefix)))


def mac_for(pod_id: str) -> str:
    """A stable, locally administered MAC per pod, so its interface keeps its address."""
    b = hashlib.sha256(pod_id.encode()).digest()[:5]
    return "02:" + ":".join(f"{x:02x}" for x in b)
