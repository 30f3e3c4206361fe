"""Network interfaces: each pod's primary interface, read from its pod's row (podyard
offers no interfaces of their own), with the elastic IP on its primary address."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podyard.domain.records import NetworkInterfaceRecord
from podyard.domain.vpcs import InterfaceFilter, last_page
from podyard.store.tables import ElasticIp, Pod

_NIC = ("primaryNetworkInterface", "networkInterface")
_NAME = Pod.spec[(*_NIC, "networkInterfaceName")].as_string()

_COLUMNS = (
    Pod.network_interface_id,
    Pod.pod_id,
    Pod.account_id,
    Pod.region,
    Pod.vpc_id,
    Pod.subnet_id,
    Pod.ip,
    Pod.secondary_ips,
    Pod.security_group_ids,
    Pod.mac_address,
    Pod.spec,
    Pod.created_at,
    ElasticIp.elastic_ip_id,
    ElasticIp.address,
)


def _select(account_id: str, region: str) -> Any:
    return (
        select(*_COLUMNS)
        .outerjoin(ElasticIp, ElasticIp.pod_id == Pod.pod_id)
        .where(Pod.account_id == account_id, Pod.region == region)
    )


def _record(r: Any) -> NetworkInterfaceRecord:
    nic = (r.spec.get(_NIC[0]) or {}).get(_NIC[1]) or {}
    return NetworkInterfaceRecord(
        network_interface_id=r.network_interface_id,
        name=nic.get("networkInterfaceName"),
        description=nic.get("description"),
        pod_id=r.pod_id,
        account_id=r.account_id,
        region=r.region,
        vpc_id=r.vpc_id,
        subnet_id=r.subnet_id,
        primary_ip=r.ip,
        secondary_ips=tuple(r.secondary_ips or ()),
        security_group_ids=tuple(r.security_group_ids),
        mac_address=r.mac_address,
        sanity_check=nic.get("sanityCheck", 1),
        elastic_ip=(r.elastic_ip_id, r.address) if r.elastic_ip_id else None,
        created_at=r.created_at,
    )


def interface(session: Session, account_id: str, region: str, interface_id: str) -> NetworkInterfaceRecord | None:
    row = session.execute(_select(account_id, region).where(Pod.network_interface_id == interface_id)).first()
    return _record(row) if row else None


def interface_page(
    session: Session, account_id: str, region: str, f: InterfaceFilter, number: int, size: int
) -> tuple[list[NetworkInterfaceRecord], int]:
    where: list[Any] = [Pod.account_id == account_id, Pod.region == region]
    if f.interface_ids is not None:
        where.append(Pod.network_interface_id.in_(f.interface_ids))
    if f.names is not None:
        where.append(_NAME.in_(f.names))
    if f.vpc_id is not None:
        where.append(Pod.vpc_id == f.vpc_id)
    if f.subnet_id is not None:
        where.append(Pod.subnet_id == f.subnet_id)
    total = int(session.scalar(select(func.count()).select_from(Pod).where(*where)) or 0)
    number = last_page(number, size, total)
    rows: Sequence[Any] = session.execute(
        _select(account_id, region)
        .where(*where)
        .order_by(Pod.created_at, Pod.pod_id)
        .offset((number - 1) * size)
        .limit(size)
    ).all()
    return [_record(r) for r in rows], total
