"""The registry rule (domain/registries.py), its settings, and the check of services/registries.py."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from podyard.config import Settings
from podyard.control.images import ImagePolicy
from podyard.domain.images import parse_image
from podyard.domain.registries import (
    DEFAULT_DENY,
    AddressEntry,
    NameEntry,
    RegistryPolicy,
    parse_entry,
    refusal,
    registry_of,
)
from podyard.runtime.fake import FakeRuntime
from podyard.runtime.protocol import ImagePullFailure
from podyard.services import resolving
from podyard.services.registries import image_refusal
from podyard.services.resolving import ResolveCache, system_resolver

DEFAULT = RegistryPolicy.parse()
REFUSED = "is not allowed by this podyard"


def ips(*addresses: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    return [ipaddress.ip_address(a) for a in addresses]


def check(
    registry: str, resolved: Sequence[str] | None = (), allow: Sequence[str] = (), deny: Sequence[str] = DEFAULT_DENY
) -> str | None:
    return refusal(
        registry_of(registry), None if resolved is None else ips(*resolved), RegistryPolicy.parse(allow, deny)
    )


# --- entries -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("169.254.0.0/16", AddressEntry(ipaddress.ip_network("169.254.0.0/16"), "169.254.0.0/16")),
        ("10.1.2.3", AddressEntry(ipaddress.ip_network("10.1.2.3/32"), "10.1.2.3")),
        ("10.1.2.3/8", AddressEntry(ipaddress.ip_network("10.0.0.0/8"), "10.1.2.3/8")),  # host bits forgiven
        ("fe80::/10", AddressEntry(ipaddress.ip_network("fe80::/10"), "fe80::/10")),
        ("[fd00:ec2::254]", AddressEntry(ipaddress.ip_network("fd00:ec2::254/128"), "[fd00:ec2::254]")),
        ("registry.corp.example", NameEntry("registry.corp.example", None, False, "registry.corp.example")),
        ("Registry.Corp.Example:5000", NameEntry("registry.corp.example", 5000, False, "Registry.Corp.Example:5000")),
        ("*.corp.example", NameEntry("corp.example", None, True, "*.corp.example")),
        ("*.corp.example:443", NameEntry("corp.example", 443, True, "*.corp.example:443")),
        ("localhost:5000", NameEntry("localhost", 5000, False, "localhost:5000")),
        ("127.0.0.1:5000", NameEntry("127.0.0.1", 5000, False, "127.0.0.1:5000")),
        ("[::1]:5000", NameEntry("::1", 5000, False, "[::1]:5000")),
        ("index.docker.io", NameEntry("docker.io", None, False, "index.docker.io")),
        ("registry-1.docker.io", NameEntry("docker.io", None, False, "registry-1.docker.io")),
        (" quay.io ", NameEntry("quay.io", None, False, "quay.io")),
    ],
)
def test_entries(text: str, entry: object) -> None:
    assert parse_entry(text) == entry


@pytest.mark.parametrize(
    "text",
    ["", "*", "*.", "*.10.0.0.1", "[quay.io]", "[10.0.0.1", "http://quay.io", "quay.io/team", "quay.io:",
     "quay.io:0", "quay.io:65536", "quay.io:http", "-bad.example", "bad_name.example", "[::1", "[::1]x",
     "10.0.0.0/33", "a..b"],
)  # fmt: skip
def test_bad_entries(text: str) -> None:
    with pytest.raises(ValueError):
        parse_entry(text)


def test_policy_names_the_list_of_a_bad_entry() -> None:
    with pytest.raises(ValueError, match=r"registry_allow: 'http://x' is neither a CIDR nor a registry name"):
        RegistryPolicy.parse(["http://x"], [])
    with pytest.raises(ValueError, match=r"registry_deny: "):
        RegistryPolicy.parse([], ["quay.io:http"])


# --- registries ------------------------------------------------------------------------


def test_registry_of() -> None:
    r = registry_of("Registry.Example:5000")
    assert (r.host, r.port, r.address, r.dial_host, r.name) == (
        "registry.example", 5000, None, "registry.example", "Registry.Example:5000"
    )  # fmt: skip
    r = registry_of("127.0.0.1:5000")
    assert (r.host, r.port, r.address, r.dial_host) == ("127.0.0.1", 5000, ipaddress.ip_address("127.0.0.1"), None)
    r = registry_of("[::1]:5000")
    assert (r.host, r.port, r.address, r.dial_host) == ("::1", 5000, ipaddress.ip_address("::1"), None)
    r = registry_of("[0:0::1]")
    assert (r.host, r.port) == ("::1", None)
    for hub in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        assert (registry_of(hub).host, registry_of(hub).dial_host) == ("docker.io", "registry-1.docker.io")


@pytest.mark.parametrize(
    "host", ["169.254.43518", "2852039166:5000", "0xa9fea9fe", "0xa9.0xfe.0xa9.0xfe", "0251.0376.0251.0376", "127.1",
             "127.000.0.1", "0x7f.1"],
)  # fmt: skip
def test_numeric_hosts_in_other_forms_are_refused(host: str) -> None:
    """inet_aton reads these as addresses, Go's parser does not: never trusted as names."""
    reason = check(host, allow=["*.anything.example", "0.0.0.0/0"], deny=[])
    assert reason is not None and "write an address as a dotted quad" in reason


@pytest.mark.parametrize("host", ["123.example", "cafe.babe", "0x.example:5000", "1a.2b"])
def test_names_with_some_letters_are_names(host: str) -> None:
    assert check(host, ["203.0.113.9"]) is None


# --- the default deny list --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "denied_by"),
    [
        ("169.254.169.254", "169.254.0.0/16"),
        ("169.254.169.254:80", "169.254.0.0/16"),
        ("169.254.0.1", "169.254.0.0/16"),
        ("0.0.0.0:5000", "0.0.0.0/8"),
        ("0.1.2.3", "0.0.0.0/8"),
        ("[::]:5000", "::/128"),
        ("[fe80::1]:5000", "fe80::/10"),
        ("[febf::1]", "fe80::/10"),
        ("[fd00:ec2::254]", "fd00:ec2::254/128"),
        ("[::ffff:169.254.169.254]", "169.254.0.0/16"),  # IPv4-mapped
        ("[::ffff:a9fe:a9fe]:80", "169.254.0.0/16"),
        ("[64:ff9b::169.254.169.254]", "169.254.0.0/16"),  # NAT64's well-known prefix
    ],
)
def test_default_deny_of_addresses(registry: str, denied_by: str) -> None:
    host = registry_of(registry).host
    assert check(registry) == f"registry {registry} is not allowed by this podyard (denied: {denied_by})", host


@pytest.mark.parametrize(
    "registry",
    ["127.0.0.1:5000", "127.0.0.1", "127.9.9.9:80", "[::1]:5000", "localhost:5000", "10.0.0.5:5000",
     "192.168.1.10", "[fd00:ec2::253]", "[fe00::1]", "169.253.255.255", "169.255.0.0", "1.0.0.0", "docker.io",
     "quay.io", "ghcr.io"],
)  # fmt: skip
def test_default_allows_loopback_private_and_public(registry: str) -> None:
    resolved = ["127.0.0.1", "::1"] if registry.startswith("localhost") else ["203.0.113.7"]
    assert check(registry, resolved) is None


def test_a_name_that_resolves_to_a_denied_address_is_denied() -> None:
    assert check("metadata.example", ["169.254.169.254"]) == (
        "registry metadata.example is not allowed by this podyard (it resolves to 169.254.169.254, "
        "denied: 169.254.0.0/16)"
    )
    # any one address is enough: Podman may dial any of them
    reason = check("mixed.example:5000", ["203.0.113.7", "fe80::1"])
    assert reason is not None and "it resolves to fe80::1, denied: fe80::/10" in reason
    reason = check("mapped.example", ["::ffff:169.254.169.254"])
    assert reason is not None and "denied: 169.254.0.0/16" in reason


def test_a_name_that_does_not_resolve_is_judged_by_its_name() -> None:
    """Denying needs evidence: Podman's pull would have to resolve it too (docs: the DNS caveat)."""
    assert check("nowhere.example", None) is None
    assert check("nowhere.example", []) is None
    assert check("nowhere.example", None, deny=["nowhere.example"]) is not None


def test_an_empty_deny_list_denies_nothing() -> None:
    assert check("169.254.169.254", deny=[]) is None
    assert check("metadata.example", ["169.254.169.254"], deny=[]) is None


# --- operator deny entries by name ------------------------------------------------------


@pytest.mark.parametrize(
    ("registry", "entry", "denied"),
    [
        ("registry.corp.example", "registry.corp.example", True),
        ("REGISTRY.corp.example:5000", "registry.corp.example", True),  # no port: every port
        ("registry.corp.example:5000", "registry.corp.example:5000", True),
        ("registry.corp.example:5001", "registry.corp.example:5000", False),
        ("registry.corp.example", "registry.corp.example:443", False),  # a port matches that port only
        ("a.corp.example", "*.corp.example", True),
        ("a.b.corp.example:5000", "*.corp.example", True),
        ("corp.example", "*.corp.example", False),  # the wildcard is subdomains, not the domain
        ("xcorp.example", "*.corp.example", False),
        ("a.corp.example:5000", "*.corp.example:5000", True),
        ("a.corp.example:5001", "*.corp.example:5000", False),
        ("corp.example.evil.test", "corp.example", False),
        ("docker.io", "docker.io", True),
        ("index.docker.io", "docker.io", True),
        ("registry-1.docker.io", "docker.io", True),
        ("docker.io", "index.docker.io", True),
        ("127.0.0.1:5000", "127.0.0.1:5000", True),
        ("127.0.0.1:5001", "127.0.0.1:5000", False),
        ("127.0.0.1:5001", "127.0.0.1", True),  # an address: any port
        ("[::1]:5000", "[::1]:5000", True),
        ("[0::1]:5000", "[::1]:5000", True),
        ("[::1]:5000", "::1", True),
        ("[::1]:5000", "127.0.0.0/8", False),
        ("localhost:5000", "127.0.0.0/8", True),  # by its address
        ("localhost:5000", "localhost", True),
    ],
)
def test_operator_deny_entries(registry: str, entry: str, denied: bool) -> None:
    resolved = ["127.0.0.1"] if registry.startswith("localhost") else ["203.0.113.7"]
    reason = check(registry, resolved, deny=[*DEFAULT_DENY, entry])
    assert (reason is not None) == denied, reason
    if denied:
        assert reason is not None and reason.startswith(f"registry {registry} is not allowed by this podyard (")
        assert f"denied: {entry}" in reason or f"denied: {parse_entry(entry).text}" in reason


# --- allow lists ---------------------------------------------------------------------------


def test_an_empty_allow_list_allows_what_is_not_denied() -> None:
    assert check("anything.example", ["198.51.100.1"], allow=[]) is None


@pytest.mark.parametrize(
    ("registry", "resolved", "allow", "allowed"),
    [
        ("registry.corp.example", ["10.1.1.1"], ["registry.corp.example"], True),
        ("other.example", ["10.1.1.1"], ["registry.corp.example"], False),
        ("a.corp.example:5000", ["10.1.1.1"], ["*.corp.example"], True),
        ("docker.io", ["198.51.100.1"], ["docker.io"], True),
        ("index.docker.io", ["198.51.100.1"], ["docker.io"], True),
        ("quay.io", ["198.51.100.1"], ["docker.io"], False),
        ("127.0.0.1:5000", [], ["registry.corp.example"], False),  # loopback too, once a list is given
        ("127.0.0.1:5000", [], ["127.0.0.0/8"], True),
        ("[::1]:5000", [], ["127.0.0.0/8"], False),
        ("[::1]:5000", [], ["127.0.0.0/8", "::1"], True),
        ("127.0.0.1:5000", [], ["127.0.0.1:5000"], True),
        ("127.0.0.1:5001", [], ["127.0.0.1:5000"], False),
        ("mirror.corp.example", ["10.1.1.1", "10.2.2.2"], ["10.0.0.0/8"], True),
        ("mirror.corp.example", ["10.1.1.1", "198.51.100.1"], ["10.0.0.0/8"], False),  # every address
        ("mirror.corp.example", None, ["10.0.0.0/8"], False),  # allowing needs evidence
        ("mirror.corp.example", None, ["mirror.corp.example"], True),  # by name, no resolving needed
    ],
)
def test_allow_lists(registry: str, resolved: list[str] | None, allow: list[str], allowed: bool) -> None:
    assert (check(registry, resolved, allow=allow) is None) == allowed


def test_deny_wins_over_allow() -> None:
    assert check("169.254.169.254", allow=["169.254.169.254"]) is not None
    assert check("metadata.corp.example", ["169.254.169.254"], allow=["*.corp.example"]) is not None
    assert check("a.corp.example", ["10.0.0.1"], allow=["*.corp.example"], deny=["a.corp.example"]) is not None


def test_allow_list_reasons() -> None:
    base = "registry {} is not allowed by this podyard"
    not_listed = " (not on its allow list)"
    assert check("quay.io", ["198.51.100.1"], allow=["docker.io"]) == base.format("quay.io") + not_listed
    assert check("10.9.9.9:5000", allow=["10.0.0.0/16"]) == base.format("10.9.9.9:5000") + not_listed
    assert check("m.example", ["10.1.1.1", "198.51.100.1"], allow=["10.0.0.0/8"]) == base.format("m.example") + (
        " (it resolves to 198.51.100.1, not on its allow list)"
    )
    assert check("m.example", None, allow=["10.0.0.0/8"]) == base.format("m.example") + (
        " (not on its allow list by name, and its name does not resolve)"
    )


# --- settings ----------------------------------------------------------------------------------


def test_settings_defaults_and_lists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.registry_allow == [] and s.registry_deny == list(DEFAULT_DENY)
    assert s.registry_policy == RegistryPolicy.parse()
    assert s.registry_resolve_timeout_seconds == 2.0
    monkeypatch.setenv("PODYARD_REGISTRY_ALLOW", '["*.corp.example", "127.0.0.0/8"]')
    monkeypatch.setenv("PODYARD_REGISTRY_DENY", '["169.254.0.0/16", "bad.corp.example"]')
    s = Settings(data_dir=tmp_path)
    assert s.registry_policy == RegistryPolicy.parse(
        ["*.corp.example", "127.0.0.0/8"], ["169.254.0.0/16", "bad.corp.example"]
    )


@pytest.mark.parametrize("field", ["registry_allow", "registry_deny"])
def test_settings_refuse_a_bad_entry(tmp_path: Path, field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(data_dir=tmp_path, **{field: ["https://quay.io"]})
    with pytest.raises(ValidationError, match="registry_resolve_timeout_seconds"):
        Settings(data_dir=tmp_path, registry_resolve_timeout_seconds=0)


# --- the service check: resolving ----------------------------------------------------------


class Resolver:
    def __init__(self, hosts: dict[str, list[str]]) -> None:
        self.hosts = hosts
        self.asked: list[str] = []

    def __call__(self, name: str) -> list[str]:
        self.asked.append(name)
        if name not in self.hosts:
            raise OSError(f"{name}: Name or service not known")
        return self.hosts[name]


def test_the_create_check_keeps_answers_a_few_seconds_and_no_more() -> None:
    """A burst of creates resolves a registry once; after the TTL (on a clock the test
    moves), or with another resolver, the name is asked again. Failures are kept too."""
    now = [0.0]
    cache = ResolveCache(ttl=5.0, size=2, timer=lambda: now[0])
    resolve = Resolver({"r.example": ["10.0.0.1"]})
    cached = cache.of(resolve)
    assert cached("r.example") == cached("r.example") == ["10.0.0.1"]
    with pytest.raises(OSError):
        cached("gone.example")
    with pytest.raises(OSError):
        cached("gone.example")
    assert resolve.asked == ["r.example", "gone.example"]
    now[0] = 5.1
    assert cached("r.example") == ["10.0.0.1"]
    assert resolve.asked[-1] == "r.example" and len(resolve.asked) == 3
    other = Resolver({"r.example": ["10.0.0.2"]})
    assert cache.of(other)("r.example") == ["10.0.0.2"]
    for host in ("x.example", "y.example", "z.example"):  # bounded: size 2
        with pytest.raises(OSError):
            cached(host)
    assert len(cache._answers) == 2


def test_image_refusal_resolves_the_host_podman_dials() -> None:
    resolve = Resolver({"registry-1.docker.io": ["198.51.100.1"], "evil.example": ["169.254.169.254"]})
    assert image_refusal(DEFAULT, resolve, "busybox") is None
    assert image_refusal(DEFAULT, resolve, "index.docker.io/library/busybox:1") is None
    assert resolve.asked == ["registry-1.docker.io", "registry-1.docker.io"]
    reason = image_refusal(DEFAULT, resolve, "evil.example:5000/x/y:1")
    assert reason is not None and "it resolves to 169.254.169.254" in reason
    resolve.asked.clear()
    assert image_refusal(DEFAULT, resolve, "127.0.0.1:5000/app:1") is None  # an address: nothing to resolve
    assert image_refusal(DEFAULT, resolve, "169.254.43518:80/app:1") is not None
    assert resolve.asked == []


def test_image_refusal_resolves_once_through_the_cache_and_only_when_addresses_matter() -> None:
    resolve = Resolver({"r.example": ["10.0.0.1"]})
    cached = ResolveCache().of(resolve)
    for _ in range(3):
        assert image_refusal(DEFAULT, cached, "r.example/a:1") is None
    assert resolve.asked == ["r.example"]
    by_name = RegistryPolicy.parse(["r.example"], ["bad.example"])
    resolve.asked.clear()
    assert image_refusal(by_name, resolve, "r.example/a:1") is None
    assert image_refusal(by_name, resolve, "bad.example/a:1") is not None
    assert resolve.asked == []


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("[::::]:5000/app:1", "it has brackets around '::::', which is not an IP address"),
        ("[1:2:3]/app:1", "it has brackets around '1:2:3', which is not an IP address"),
        ("r.example:99999/app:1", "it has an invalid port '99999'"),
        ("r.example:0/app:1", "it has an invalid port '0'"),
    ],
)
def test_image_refusal_of_hosts_podman_could_not_reach(image: str, why: str) -> None:
    name = image.rsplit("/", 1)[0]
    assert image_refusal(DEFAULT, Resolver({}), image) == f"registry {name} is not allowed by this podyard ({why})"


def test_image_refusal_answers_with_zones_and_junk() -> None:
    resolve = Resolver({"ll.example": ["fe80::1%eth0"], "odd.example": ["not-an-address", "203.0.113.1"]})
    reason = image_refusal(DEFAULT, resolve, "ll.example/a")
    assert reason is not None and "denied: fe80::/10" in reason
    assert image_refusal(DEFAULT, resolve, "odd.example/a") is None


def test_system_resolver_answers_and_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def getaddrinfo(host: str, port: object, *args: object, **kw: object) -> list[tuple]:
        if host == "slow.example":
            release.wait(5)
            return []
        if host == "gone.example":
            raise socket.gaierror(-2, "Name or service not known")
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 0)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fe80::1%eth0", 0, 0, 2)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", 0)),
        ]

    monkeypatch.setattr(resolving.socket, "getaddrinfo", getaddrinfo)
    resolve = system_resolver(0.05)
    assert list(resolve("fast.example")) == ["10.0.0.1", "fe80::1%eth0"]
    with pytest.raises(OSError, match="Name or service not known"):
        resolve("gone.example")
    try:
        with pytest.raises(OSError, match=r"resolving slow\.example took over 0\.05 s"):
            resolve("slow.example")
    finally:
        release.set()
    assert image_refusal(DEFAULT, resolve, "fast.example/a") is not None  # fe80::1
    assert image_refusal(RegistryPolicy.parse(["10.0.0.0/8"], []), resolve, "gone.example/a") is not None


# --- the reconciler checks again right before a pull ------------------------------------------------


class _Clock:
    def monotonic(self) -> float:
        return 0.0


def test_the_image_policy_checks_the_registry_before_each_pull(tmp_path: Path) -> None:
    runtime = FakeRuntime(tmp_path)
    asked: list[str] = []

    async def registry_check(ref: str) -> str | None:
        asked.append(ref)
        return "registry evil.example is not allowed by this podyard (denied: evil.example)" if "evil" in ref else None

    async def go() -> None:
        images = ImagePolicy(runtime, _Clock(), registry_check=registry_check)  # type: ignore[arg-type]
        await images.ensure("acct", "good.example/app:1", None)
        with pytest.raises(ImagePullFailure, match=r"registry evil\.example is not allowed"):
            await images.ensure("acct", "evil.example/app:1", None)
        await images.ensure("acct", "good.example/app:1", None)  # present and checked: no pull, no check

    asyncio.run(go())
    assert runtime.pulls == ["good.example/app:1"]
    assert asked == ["good.example/app:1", "evil.example/app:1"]


@settings(max_examples=400, deadline=None)
@given(
    host=st.from_regex(r"\A(\[[0-9a-fA-F:.]{1,20}\]|[a-zA-Z0-9][a-zA-Z0-9.-]{0,20})(:[0-9]{1,6})?\Z"),
    answers=st.lists(st.ip_addresses().map(str) | st.text(max_size=8), max_size=3),
)
def test_every_image_that_parses_gets_an_answer(host: str, answers: list[str]) -> None:
    image = f"{host}/app:1"
    try:
        parse_image(image)
    except ValueError:
        return
    resolve = Resolver({name: answers for name in (registry_of_or_none(host),) if name})
    for policy in (DEFAULT, RegistryPolicy.parse(["10.0.0.0/8", "*.example"], DEFAULT_DENY)):
        assert image_refusal(policy, resolve, image) is None or REFUSED in str(image_refusal(policy, resolve, image))


def registry_of_or_none(host: str) -> str | None:
    try:
        return registry_of(host).dial_host
    except ValueError:
        return None
