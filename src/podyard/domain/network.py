"""Address rules of subnets: which addresses a pod may have, and the next free one."""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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


@dataclass(frozen=True)
class AddressRequest:
    """What createPods asks of one subnet, for each of its ``count`` pods."""

    count: int
    primary: str | None = None
    secondaries: Sequence[str] = ()
    secondary_count: int = 0


def assign_addresses(cidr: str, used: set[int], want: AddressRequest, field: str) -> list[tuple[str, tuple[str, ...]]]:
    """Each pod's (primary IP, secondary IPs): the given ones checked, the rest the
    lowest free addresses. ``used`` holds the subnet's taken addresses as integers;
    errors name the field under ``field``."""
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
        if n in used:
            raise AlreadyExists(f"{name}: {ip} is in use")
        seen.add(n)
    per_pod = (0 if want.primary else 1) + want.secondary_count
    wanted = want.count * per_pod
    free = []
    if wanted:
        for ip in free_addresses(cidr, used | seen):
            free.append(ip)
            if len(free) == wanted:
                break
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
