"""Security group rules of the VPC docs: directions, protocols, address prefixes, ports,
the rules a new group and an account's default group start with, and what makes two
rules the same. Pure: the specs and the services use these, nothing here does I/O."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

INGRESS, EGRESS = 0, 1
DIRECTIONS = (INGRESS, EGRESS)
ALL_PROTOCOLS, TCP, UDP, ICMP = 300, 6, 17, 1
PROTOCOLS = (ALL_PROTOCOLS, TCP, UDP, ICMP)
# Transport protocols have ports; for the others fromPort and toPort are always 0.
PORTED = frozenset({TCP, UDP})
PORT_MIN, PORT_MAX = 1, 65535
ANYWHERE = "0.0.0.0/0"

# The SDK's priority: 1 (first) to 100; a rule given none has 100. Every podyard rule
# allows (ruleAction ALLOW), so the order of rules changes nothing.
PRIORITY_MIN, PRIORITY_MAX = 1, 100
DEFAULT_PRIORITY = PRIORITY_MAX
RULE_ACTION = "ALLOW"
PREFIX_TYPE = "CIDR"


def address_prefix(value: str) -> str:
    """An IPv4 CIDR as stored and shown (``10.0.0.5`` is ``10.0.0.5/32``); a prefix with
    host bits set, an IPv6 prefix or anything else raises ValueError."""
    if ":" in value:
        raise ValueError("IPv6 prefixes are not offered; give an IPv4 CIDR such as 10.0.0.0/16")
    try:
        return str(ipaddress.IPv4Network(value))
    except ValueError:
        pass
    try:
        loose = ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 CIDR such as 10.0.0.0/16 or 0.0.0.0/0") from None
    raise ValueError(f"{value} has host bits set; the network is {loose}")


def ports(protocol: int, from_port: int | None, to_port: int | None) -> tuple[int, int]:
    """A rule's port range: TCP and UDP default to 1-65535, each end 1-65535 and
    fromPort <= toPort; the other protocols have none (0-0), and a port given for them is
    refused rather than ignored. Raises ValueError naming the field."""
    if protocol not in PORTED:
        for field, value in (("fromPort", from_port), ("toPort", to_port)):
            if value not in (None, 0):
                raise ValueError(f"{field}: protocol {protocol} has no ports; leave fromPort and toPort out (or 0)")
        return 0, 0
    low = PORT_MIN if from_port is None else from_port
    high = PORT_MAX if to_port is None else to_port
    for field, value in (("fromPort", low), ("toPort", high)):
        if not PORT_MIN <= value <= PORT_MAX:
            raise ValueError(f"{field}: {value} is not a port of {PORT_MIN}-{PORT_MAX}")
    if low > high:
        raise ValueError(f"fromPort: {low} is above toPort {high}")
    return low, high


@dataclass(frozen=True)
class Rule:
    """What a rule allows; two rules of a group that allow the same are duplicates."""

    direction: int
    protocol: int
    address_prefix: str
    from_port: int
    to_port: int


def allow_all_egress() -> Rule:
    """A new group has no ingress rule and allows all egress, with this one visible rule."""
    return Rule(EGRESS, ALL_PROTOCOLS, ANYWHERE, 0, 0)


def default_group_rules(vpc_cidr: str) -> list[Rule]:
    """An account's default group also allows all ingress from its own VPC."""
    return [Rule(INGRESS, ALL_PROTOCOLS, str(ipaddress.IPv4Network(vpc_cidr)), 0, 0), allow_all_egress()]
