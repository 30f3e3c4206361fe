"""Network interface use cases: describe one, list them. An interface is a pod's
primary interface; it comes and goes with its pod."""

from __future__ import annotations

from podyard.domain.errors import NotFound
from podyard.domain.records import AccountRecord, NetworkInterfaceRecord
from podyard.domain.vpcs import InterfaceFilter
from podyard.services.context import ServiceContext
from podyard.store import interfaces


def describe_network_interface(
    ctx: ServiceContext, account: AccountRecord, region: str, interface_id: str
) -> NetworkInterfaceRecord:
    ctx.check_region(region)
    with ctx.db.read() as s:
        found = interfaces.interface(s, account.account_id, region, interface_id)
    if found is None:
        raise NotFound(f"networkInterfaceId: network interface {interface_id} not found")
    return found


def describe_network_interfaces(
    ctx: ServiceContext, account: AccountRecord, region: str, number: int, size: int, flt: InterfaceFilter
) -> tuple[list[NetworkInterfaceRecord], int]:
    ctx.check_region(region)
    if flt.nothing:
        return [], 0
    with ctx.db.read() as s:
        return interfaces.interface_page(s, account.account_id, region, flt, number, size)
