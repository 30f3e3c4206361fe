"""Which registries this podyard's Podman may be sent to: the operator's allow and deny
lists, by name and by address.

An image reference names any host, so without a rule a tenant could make Podman open
connections to addresses inside the host's network (cloud metadata, the link-local
range). The rule here is pure: the caller resolves the registry's name (I/O: services/,
which the reconciler also asks before each pull) and hands over the addresses;
:func:`refusal` says why the registry is refused, or None.

- An entry is a registry name (``host``, ``host:port``, ``*.domain`` for every
  subdomain) or a CIDR (``169.254.0.0/16``, ``fd00:ec2::254``).
- Deny wins: a registry is refused if its name matches a deny entry, or if any of its
  addresses (an IP literal's own, or what its name resolves to) lies in a denied CIDR;
  an IPv4-mapped or NAT64 (64:ff9b::/96) address counts as the IPv4 address it reaches.
- An empty allow list allows every registry not denied. Otherwise a registry must match
  an allow entry by name, or all its addresses must lie in allowed CIDRs (a name that
  does not resolve is then refused: allowing needs evidence, denying does too).
- Docker Hub's names (``docker.io``, ``index.docker.io``, ``registry-1.docker.io``) are one
  registry, ``docker.io``; its address is ``registry-1.docker.io``'s, which Podman dials.
- A host whose labels are all numbers (``169.254.43518``, ``0xa9fea9fe``) is an address in
  a form resolvers read differently from one another: always refused.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from podyard.domain.secrets import DOCKER_HUB

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Link-local (cloud metadata at 169.254.169.254), "this network" and the unspecified
# address (both reach the host itself), and AWS's IPv6 metadata address.
DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128", "fd00:ec2::254/128")
DOCKER_HUB_NAME = "docker.io"
DOCKER_HUB_DIAL = "registry-1.docker.io"  # where Podman (containers/image) fetches docker.io from

_LABEL = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one reaches: IPv4-mapped (``::ffff:a.b.c.d``) or through
    the well-known NAT64 prefix (``64:ff9b::a.b.c.d``)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _split_host_port(text: str) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]``, ``[v6]:port`` → (lowercase host, port)."""
    text = text.strip().lower()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError("has an unclosed or misplaced '['")
        if _address(host) is None:
            raise ValueError(f"has brackets around {host!r}, which is not an IP address")
        port_text = rest[1:] if rest else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, None
    port = None
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"has an invalid port {port_text!r}")
        port = int(port_text)
    return host, port


def _canonical_host(host: str) -> str:
    address = _address(host)
    if address is not None:
        return str(address)
    return DOCKER_HUB_NAME if host in DOCKER_HUB else host


@dataclass(frozen=True)
class Registry:
    """An image's registry as Podman reaches it."""

    name: str  # as the reference gives it (``docker.io`` when it gives none)
    host: str  # lowercase, an IPv6 address without brackets, Docker Hub as docker.io
    port: int | None
    address: IPAddress | None  # when the host is an IP literal

    @property
    def dial_host(self) -> str | None:
        """The name to resolve for its addresses; None for an IP literal."""
        if self.address is not None:
            return None
        return DOCKER_HUB_DIAL if self.host == DOCKER_HUB_NAME else self.host

    @property
    def numeric(self) -> bool:
        """A host like ``169.254.43518`` or ``0x7f.1``: inet_aton reads it as an address."""
        return self.address is None and all(_NUMERIC_LABEL.match(label) for label in self.host.split("."))


def registry_of(name: str) -> Registry:
    """``127.0.0.1:5000`` → Registry(host='127.0.0.1', port=5000, ...); ValueError (saying
    what is wrong, to follow "registry NAME") if malformed."""
    host, port = _split_host_port(name)
    return Registry(name=name, host=_canonical_host(host), port=port, address=_address(host))


@dataclass(frozen=True)
class NameEntry:
    host: str
    port: int | None
    wildcard: bool  # ``*.corp.example``: every subdomain of corp.example, not itself
    text: str

    def matches(self, registry: Registry) -> bool:
        if self.port is not None and registry.port != self.port:
            return False
        if self.wildcard:
            return registry.address is None and registry.host.endswith("." + self.host)
        return registry.host == self.host


@dataclass(frozen=True)
class AddressEntry:
    network: IPNetwork
    text: str

    def holds(self, address: IPAddress) -> bool:
        if address in self.network:
            return True
        embedded = _embedded_ipv4(address)
        return embedded is not None and embedded in self.network


Entry = NameEntry | AddressEntry


def parse_entry(text: str) -> Entry:
    """A list entry: a CIDR or single address, else a registry name; ValueError if neither."""
    stripped = text.strip()
    bare = stripped[1:-1] if stripped.startswith("[") and stripped.endswith("]") else stripped
    try:
        return AddressEntry(ipaddress.ip_network(bare, strict=False), stripped)
    except ValueError:
        pass
    neither = f"{stripped!r} is neither a CIDR nor a registry name (host, host:port, [v6]:port or *.domain)"
    wildcard = stripped.startswith("*.")
    try:
        host, port = _split_host_port(stripped[2:] if wildcard else stripped)
    except ValueError as e:
        raise ValueError(f"{neither}: it {e}") from None
    if _address(host) is not None:
        if wildcard:
            raise ValueError(f"{stripped!r}: a wildcard takes a domain name, not an address")
    elif not _HOSTNAME.match(host):
        raise ValueError(neither)
    return NameEntry(_canonical_host(host), port, wildcard, stripped)


def _parse_list(entries: Iterable[str], which: str) -> tuple[Entry, ...]:
    parsed = []
    for entry in entries:
        try:
            parsed.append(parse_entry(entry))
        except ValueError as e:
            raise ValueError(f"{which}: {e}") from None
    return tuple(parsed)


@dataclass(frozen=True)
class RegistryPolicy:
    allow: tuple[Entry, ...] = ()
    deny: tuple[Entry, ...] = ()

    @classmethod
    def parse(cls, allow: Iterable[str] = (), deny: Iterable[str] = DEFAULT_DENY) -> RegistryPolicy:
        return cls(_parse_list(allow, "registry_allow"), _parse_list(deny, "registry_deny"))

    @property
    def by_address(self) -> bool:
        """Whether any entry looks at addresses (else resolving is not needed)."""
        return any(isinstance(e, AddressEntry) for e in (*self.allow, *self.deny))


def _in(entries: Sequence[Entry], address: IPAddress) -> AddressEntry | None:
    return next((e for e in entries if isinstance(e, AddressEntry) and e.holds(address)), None)


def refusal(registry: Registry, resolved: Sequence[IPAddress] | None, policy: RegistryPolicy) -> str | None:
    """Why ``registry`` may not be pulled from, or None. ``resolved``: the addresses its
    name resolves to, None when resolving failed (unused for an IP literal)."""
    refused = f"registry {registry.name} is not allowed by this podyard"
    if registry.numeric:
        return f"{refused} (write an address as a dotted quad or in brackets, not as {registry.host})"
    addresses = (registry.address,) if registry.address is not None else tuple(resolved or ())
    literal = registry.address is not None
    for entry in policy.deny:
        if isinstance(entry, NameEntry) and entry.matches(registry):
            return f"{refused} (denied: {entry.text})"
    for address in addresses:
        denied = _in(policy.deny, address)
        if denied is not None:
            resolves = "" if literal else f"it resolves to {address}, "
            return f"{refused} ({resolves}denied: {denied.text})"
    if not policy.allow:
        return None
    if any(isinstance(e, NameEntry) and e.matches(registry) for e in policy.allow):
        return None
    if addresses and all(_in(policy.allow, a) is not None for a in addresses):
        return None
    if literal or not any(isinstance(e, AddressEntry) for e in policy.allow):
        return f"{refused} (not on its allow list)"
    if resolved is None:
        return f"{refused} (not on its allow list by name, and its name does not resolve)"
    outside = ", ".join(str(a) for a in addresses if _in(policy.allow, a) is None) or "no address"
    return f"{refused} (it resolves to {outside}, not on its allow list)"
