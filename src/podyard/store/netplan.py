"""A VPC's network plan, read from what users asked for: the subnets' gateways, each pod's
addresses and the rules of its security groups, and the elastic IPs on the pods."""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from podyard.domain.netplan import ElasticIp, Port, Rule, VpcPlan, inner_address
from podyard.domain.network import gateway_of
from podyard.domain.phases import Desired
from podyard.store.tables import ElasticIp as ElasticIpRow
from podyard.store.tables import Pod, SecurityGroupRule, Subnet, Vpc


def vpc_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Vpc.vpc_id)))


def pod_vpcs(session: Session) -> dict[str, str]:
    """Every stored pod's VPC, by pod id."""
    c = Pod.__table__.c
    return {pod_id: vpc_id for pod_id, vpc_id in session.execute(select(c.pod_id, c.vpc_id))}


def vpc_plan(session: Session, vpc_id: str, eip_pool: str, inner_pool: str) -> VpcPlan | None:
    """The VPC's plan; None once the VPC is gone."""
    if session.get(Vpc, vpc_id) is None:
        return None
    subnets = {s.subnet_id: s.cidr for s in session.scalars(select(Subnet).where(Subnet.vpc_id == vpc_id))}
    c = Pod.__table__.c
    # In a fixed order: the same pods make the same plan, so an unchanged VPC's rules and
    # shaping are not loaded again (PostgreSQL returns rows in a new order after updates).
    rows = session.execute(
        select(c.pod_id, c.subnet_id, c.ip, c.secondary_ips, c.security_group_ids)
        .where(c.vpc_id == vpc_id, c.desired != Desired.DELETED)
        .order_by(c.pod_id)
    ).all()
    groups = sorted({g for r in rows for g in r.security_group_ids})
    rules: dict[str, list[Rule]] = {g: [] for g in groups}
    for rule in session.scalars(
        select(SecurityGroupRule)
        .where(SecurityGroupRule.security_group_id.in_(groups))
        .order_by(SecurityGroupRule.security_group_id, SecurityGroupRule.position)
    ):
        rules[rule.security_group_id].append(
            Rule(rule.direction, rule.protocol, rule.address_prefix, rule.from_port, rule.to_port)
        )
    eips = {
        e.pod_id: ElasticIp(e.address, inner_address(e.address, eip_pool, inner_pool), e.bandwidth_mbps)
        for e in session.scalars(select(ElasticIpRow).where(ElasticIpRow.pod_id.in_([r.pod_id for r in rows])))
        if e.pod_id
    }
    ports = []
    for r in rows:
        cidr = subnets.get(r.subnet_id)
        if cidr is None:
            continue
        port_rules = tuple(dict.fromkeys(rule for g in r.security_group_ids for rule in rules.get(g, [])))
        ports.append(
            Port(
                pod_id=r.pod_id,
                ips=(r.ip, *(r.secondary_ips or [])),
                prefixlen=ipaddress.IPv4Network(cidr).prefixlen,
                gateway=gateway_of(cidr),
                rules=port_rules,
                elastic_ip=eips.get(r.pod_id),
            )
        )
    gateways = tuple(sorted(gateway_of(cidr) for cidr in subnets.values()))
    return VpcPlan(vpc_id=vpc_id, gateways=gateways, ports=tuple(ports))
