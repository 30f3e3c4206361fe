"""Elastic IP rules: bandwidths, providers per region, the operator's pool and which of
its addresses are free, and who may buy or associate one. Pure, no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from podyard.domain.errors import Forbidden

# createElasticIps documents 1-200 Mbps; createPods' elasticIp 1-100 Mbps.
VPC_BANDWIDTH_MAX = 200
POD_BANDWIDTH_MAX = 100
BANDWIDTH_MIN = 1

BGP, NO_BGP = "bgp", "no_bgp"
# createElasticIps: cn-north-1 and cn-east-2 offer bgp only; the other regions both.
PROVIDERS_OF_REGION = {"cn-north-1": (BGP,), "cn-east-2": (BGP,)}
PROVIDERS = (BGP, NO_BGP)
INSTANCE_TYPE = "pod"  # the only kind of instance an elastic IP is associated with here


def provider_error(provider: str, region: str) -> str | None:
    offered = PROVIDERS_OF_REGION.get(region, PROVIDERS)
    if provider not in offered:
        return f"{provider!r} is not offered in {region}; choose {' or '.join(offered)}"
    return None


def pool_addresses(pool: str) -> Iterator[int]:
    """The pool's assignable addresses as integers, lowest first: all but the network and
    broadcast addresses (a /31 or /32 pool: all)."""
    net = ipaddress.IPv4Network(pool)
    if net.prefixlen >= 31:
        yield from range(int(net.network_address), int(net.broadcast_address) + 1)
    else:
        yield from range(int(net.network_address) + 1, int(net.broadcast_address))


def free_addresses(pool: str, used: set[int], count: int) -> list[str]:
    """Up to ``count`` free addresses of the pool, lowest first."""
    out: list[str] = []
    for n in pool_addresses(pool):
        if n not in used:
            out.append(str(ipaddress.IPv4Address(n)))
            if len(out) == count:
                break
    return out


def pool_address_error(address: str, pool: str) -> str | None:
    addr, net = ipaddress.IPv4Address(address), ipaddress.IPv4Network(pool)
    if addr not in net:
        return f"{address} is not in this podyard's elastic IP pool {pool}"
    if net.prefixlen < 31 and addr in (net.network_address, net.broadcast_address):
        return f"{address} is the network or broadcast address of the elastic IP pool {pool}"
    return None


def check_can_buy(verified: bool, in_arrears: bool, action: str) -> None:
    """As for pods: no resource for an account without real-name verification, or in arrears."""
    if not verified:
        raise Forbidden(f"the account has not completed real-name verification; {action} is refused")
    if in_arrears:
        raise Forbidden(f"the account is in arrears; {action} is refused")


def check_can_associate(verified: bool, in_arrears: bool, pod_id: str, action: str) -> None:
    if not verified:
        raise Forbidden(f"the account has not completed real-name verification; {action} on pod {pod_id} is refused")
    if in_arrears:
        raise Forbidden(f"the account is in arrears; {action} on pod {pod_id} is refused")
