"""Name rules of the API docs, each written once."""

from __future__ import annotations

import ipaddress
import re

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
HOSTNAME_MAX = 63

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(rf"^{_LABEL}$")
DNS1123_SUBDOMAIN = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
# The docs' hostname regex, with its '.' escaped (unescaped it matches any character).
_HOST_LABEL = r"([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]{0,61}[a-zA-Z0-9])"
HOSTNAME = re.compile(rf"^{_HOST_LABEL}(\.{_HOST_LABEL})*$")
# The docs' text says letters, digits and underscore; their regex forgets the underscore.
ENV_NAME = re.compile(r"^[A-Za-z0-9_]+$")
ENV_NAME_MAX = 64
# Letters (Chinese included), digits, '_' and '-'.
NETWORK_INTERFACE_NAME = re.compile(r"^[\w\-\u4e00-\u9fff]{1,32}$")
HTTP_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$")


def dns1123_label_error(value: str) -> str | None:
    if not value or len(value) > DNS1123_LABEL_MAX or not DNS1123_LABEL.match(value):
        return (
            "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


def dns1123_subdomain_error(value: str) -> str | None:
    if not value or len(value) > DNS1123_SUBDOMAIN_MAX or not DNS1123_SUBDOMAIN.match(value):
        return (
            "must be a DNS-1123 subdomain: 1-253 characters of lowercase letters, digits, "
            "'-' and '.', each dot-separated label starting and ending with a letter or digit"
        )
    return None


def hostname_error(value: str) -> str | None:
    if not value or len(value) > HOSTNAME_MAX or not HOSTNAME.match(value):
        return (
            "must be a hostname of 1-63 ASCII characters: labels of letters, digits and '-' "
            "joined by '.', no label starting or ending with '-'"
        )
    return None


def env_name_error(value: str) -> str | None:
    if not value or len(value) > ENV_NAME_MAX or not ENV_NAME.match(value):
        return "must be 1-64 characters of letters, digits and '_'"
    return None


def ipv4_error(value: str) -> str | None:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return "must be an IPv4 address"
    return None


_ORDINAL = re.compile(r"\[(\d{1,4})\]")


def expand_names(pattern: str, count: int) -> list[str]:
    """Names for ``count`` resources created at once, as JD names instances in bulk.

    ``web-[001]`` numbers from the placeholder (``web-001``, ``web-002``, ...), its
    digits giving the width; without a placeholder, one resource keeps the name and
    several get 1, 2, ... appended (``web1``, ``web2``).
    """
    m = _ORDINAL.search(pattern)
    if m and m.start() > 0:
        start, width = int(m.group(1)), len(m.group(1))
        return [pattern[: m.start()] + str(start + i).zfill(width) + pattern[m.end() :] for i in range(count)]
    if count == 1:
        return [pattern]
    return [f"{pattern}{i}" for i in range(1, count + 1)]
