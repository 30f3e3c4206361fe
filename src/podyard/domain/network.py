"""Address rules of subnets: which addresses a pod may have, and the next free one."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from podyard.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

# Secondary IPs per interface, given and counted together (the cloud allows 20 per ENI
# on most instance types; every one is an address of the pod's eth0 and a /32 route).
MAX_SECONDARY_IPS = 20


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


@dataclass(frozen=True)
class AddressRequest:
    """What createPods asks of one subnet, for each of its ``count`` pods."""

    count: int
    primary: str | None = None
    secondaries: Sequence[str] = ()
    secondary_count: int = 0


class Allocations(Protocol):
    """A subnet's addresses in use (as integers), asked by range: the store answers
    (store/networks.SubnetAllocations) without reading them all."""

    def taken(self, lo: int, hi: int) -> set[int]:
        """Those in use from lo to hi, both included."""

    def first_free(self, start: int) -> int:
        """The lowest number from ``start`` on that is not in use."""


def assign_addresses(
    cidr: str, allocations: Allocations, want: AddressRequest, field: str
) -> list[tuple[str, tuple[str, ...]]]:
    """Each pod's (primary IP, secondary IPs): the given ones checked, the rest the
    lowest free addresses; errors name the field under ``field``."""
    given = [(f"{field}.primaryIpAddress", want.primary)] if want.primary else []
    given += [(f"{field}.secondaryIpAddresses[{i}]", ip) for i, ip in enumerate(want.secondaries)]
    seen: set[int] = set()
    for name, ip in given:
        error = pod_address_error(ip, cidr)
        if error:
            raise InvalidArgument(f"{name}: {error}")
        n = int(ipaddress.IPv4Address(ip))
        if n in seen:
            raise InvalidArgument(f"{name}: {ip} is given twice")
        if allocations.taken(n, n):
            raise AlreadyExists(f"{name}: {ip} is in use")
        seen.add(n)
    per_pod = (0 if want.primary else 1) + want.secondary_count
    wanted = want.count * per_pod
    free = _lowest_free(cidr, allocations, wanted, seen)
    if len(free) < wanted:
        raise FailedPrecondition(
            f"{field}.subnetId: the subnet {cidr} has {len(free)} free address(es), {wanted} asked"
        )
    out = []
    for k in range(want.count):
        mine = free[k * per_pod : (k + 1) * per_pod]
        primary = want.primary or mine.pop(0)
        out.append((primary, (*want.secondaries, *mine)))
    return out


def _lowest_free(cidr: str, allocations: Allocations, wanted: int, exclude: set[int]) -> list[str]:
    """Up to ``wanted`` assignable addresses in use by nobody, lowest first: a run of taken
    addresses is skipped in one question, free ones are looked at a window at a time."""
    net = ipaddress.IPv4Network(cidr)
    cur, last = int(net.network_address) + 2, int(net.broadcast_address) - 1
    free: list[str] = []
    while len(free) < wanted and cur <= last:
        cur = allocations.first_free(cur)
        end = min(last, cur + 2 * (wanted - len(free)) + 16)
        taken = allocations.taken(cur, end) | exclude
        for n in range(cur, end + 1):
            if n not in taken:
                free.append(str(ipaddress.IPv4Address(n)))
                if len(free) == wanted:
                    break
        cur = end + 1
    return free
