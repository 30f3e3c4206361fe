"""The nftables rule sets, as text for ``nft -f``: one for each VPC's namespace (security
groups on the pods' ports, elastic IP NAT) and one for the host (the uplinks' guard, the
loopback pool's NAT). Each replaces its tables whole, in one transaction: a change is
atomic, and nothing stale survives it."""

from __future__ import annotations

from podyard.domain.netplan import ALL_PROTOCOLS, EGRESS, ICMP, TCP, UDP, Port, Rule, VpcPlan
from podyard.network.names import VPC_UPLINK, Names

_PROTO = {TCP: "tcp", UDP: "udp", ICMP: "icmp"}


def _match(rule: Rule) -> str:
    """The nft match of one rule, from the port's point of view."""
    parts = []
    if rule.prefix not in ("0.0.0.0/0", ""):
        side = "daddr" if rule.direction == EGRESS else "saddr"
        parts.append(f"ip {side} {rule.prefix}")
    if rule.protocol != ALL_PROTOCOLS:
        parts.append(f"meta l4proto {_PROTO[rule.protocol]}")
        if rule.protocol in (TCP, UDP) and (rule.from_port, rule.to_port) not in ((0, 0), (1, 65535)):
            ports = str(rule.from_port) if rule.from_port == rule.to_port else f"{rule.from_port}-{rule.to_port}"
            parts.append(f"th dport {ports}")
    return " ".join(parts)


def _replace(family: str, table: str, body: list[str]) -> list[str]:
    # "add" then "delete" makes the delete safe when the table does not exist yet.
    return [f"add table {family} {table}", f"delete table {family} {table}", f"table {family} {table} {{", *body, "}"]


def _set(items: list[str]) -> str:
    return "{ " + ", ".join(items) + " }"


def vpc_ruleset(plan: VpcPlan, names: Names) -> str:
    """Inside a VPC: a port may send what its groups' egress rules allow (from its own
    addresses only) and receive what their ingress rules allow; replies always pass.
    Only ports with an elastic IP reach the uplink, and only NATed flows come in by it.
    The namespace itself answers pings to the gateways and nothing else."""
    filt = [
        "chain input {",
        "type filter hook input priority filter; policy drop;",
        'iifname "lo" accept',
        "ct state established,related accept",
        "meta l4proto icmp accept",
        "}",
        "chain output { type filter hook output priority filter; policy accept; }",
    ]
    egress: dict[str, str] = {f'"{VPC_UPLINK}"': "jump from_uplink"}
    ingress: dict[str, str] = {f'"{VPC_UPLINK}"': "jump to_uplink"}
    for port in plan.ports:
        name = names.port(port.pod_id)
        egress[f'"{name}"'] = f"jump egress_{name}"
        ingress[f'"{name}"'] = f"jump ingress_{name}"
        filt += _port_chains(port, name)
    eip_sources = [p.ips[0] for p, _ in plan.elastic_ips]
    filt += [
        "chain from_uplink {",
        "ct status dnat return",
        "drop",
        "}",
        "chain to_uplink {",
        *([f"ip saddr {_set(eip_sources)} accept"] if eip_sources else []),
        "drop",
        "}",
        "chain forward {",
        "type filter hook forward priority filter; policy drop;",
        "ct state established,related accept",
        "ct state invalid drop",
        f"iifname vmap {_set([f'{k} : {v}' for k, v in egress.items()])}",
        f"oifname vmap {_set([f'{k} : {v}' for k, v in ingress.items()])}",
        "}",
    ]
    pre = ["type nat hook prerouting priority dstnat; policy accept;"]
    post = ["type nat hook postrouting priority srcnat; policy accept;"]
    for port, eip in plan.elastic_ips:
        pre.append(f'iifname "{VPC_UPLINK}" ip daddr {eip.inner} dnat to {port.ips[0]}')
        post.append(f'oifname "{VPC_UPLINK}" ip saddr {port.ips[0]} snat to {eip.inner}')
    nat = ["chain prerouting {", *pre, "}", "chain postrouting {", *post, "}"]
    lines = _replace("inet", names.table, filt) + _replace("ip", f"{names.table}_nat", nat)
    return "\n".join(lines) + "\n"


def _port_chains(port: Port, name: str) -> list[str]:
    out = [f"chain egress_{name} {{", f"ip saddr != {_set(list(port.ips))} drop"]
    out += [f"{_match(r)} return".strip() for r in port.rules if r.direction == EGRESS]
    out += ["drop", "}", f"chain ingress_{name} {{"]
    out += [f"{_match(r)} accept".strip() for r in port.rules if r.direction != EGRESS]
    out += ["drop", "}"]
    return out


def host_ruleset(names: Names, loopback_eips: list[tuple[str, str]], routable: bool = False) -> str:
    """On the host: what comes up an uplink never reaches the host's own services (only
    replies do); packets for or from 127/8 on any interface but lo are dropped
    (route_localnet is on for the uplinks); a loopback pool's addresses are NATed to
    their inner addresses, for this host's own clients. With a loopback pool nothing is
    forwarded to or from an uplink (the pool is this host's alone, and a pod's traffic
    never leaves the machine); with a routable pool the host forwards both ways."""
    uplinks = f'"{names.uplink_prefix}*"'
    filt = [
        "chain guard {",
        "type filter hook prerouting priority raw; policy accept;",
        'iifname != "lo" ip daddr 127.0.0.0/8 drop',
        'iifname != "lo" ip saddr 127.0.0.0/8 drop',
        "}",
        "chain input {",
        "type filter hook input priority filter; policy accept;",
        f"iifname {uplinks} ct state established,related accept",
        f"iifname {uplinks} drop",
        "}",
    ]
    if not routable:
        filt += [
            "chain forward {",
            "type filter hook forward priority filter; policy accept;",
            f"iifname {uplinks} drop",
            f"oifname {uplinks} drop",
            "}",
        ]
    dnat = [f"ip daddr {address} dnat to {inner}" for address, inner in loopback_eips]
    nat = [
        "chain output {",
        "type nat hook output priority -100; policy accept;",
        *dnat,
        "}",
        "chain postrouting {",
        "type nat hook postrouting priority srcnat; policy accept;",
        f"oifname {uplinks} ip saddr 127.0.0.0/8 masquerade",
        "}",
    ]
    lines = _replace("inet", names.table, filt) + _replace("ip", f"{names.table}_nat", nat)
    return "\n".join(lines) + "\n"


def host_teardown(names: Names) -> str:
    lines = [f"add table inet {names.table}", f"delete table inet {names.table}"]
    lines += [f"add table ip {names.table}_nat", f"delete table ip {names.table}_nat"]
    return "\n".join(lines) + "\n"
