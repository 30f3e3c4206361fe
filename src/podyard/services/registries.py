"""Whether an image's registry may be pulled from: its name resolved (with a timeout),
then the operator's lists applied (the rule is ``domain/registries.py``).

createPods and rebuildPod check every container's image before anything is written;
the reconciler checks again right before each pull (``control/images.py``), which
narrows, but cannot close, the window in which a name's DNS answer can change: Podman
resolves the name again itself when it pulls (docs/api-notes.md, "Registries").
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cachetools import TTLCache

from podyard.domain.errors import InvalidArgument
from podyard.domain.images import parse_image
from podyard.domain.registries import IPAddress, RegistryPolicy, refusal, registry_of

if TYPE_CHECKING:
    from podyard.services.context import ServiceContext

# A host name → the addresses it resolves to; OSError when it does not resolve (in time).
Resolver = Callable[[str], Sequence[str]]

DEFAULT_RESOLVE_TIMEOUT = 2.0
# getaddrinfo cannot be interrupted: a lookup that outlives its timeout keeps its thread
# until the resolver gives up, so the lookups in flight are bounded.
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="podyard-resolve")


def system_resolver(timeout: float = DEFAULT_RESOLVE_TIMEOUT) -> Resolver:
    """The host's resolver (getaddrinfo: /etc/hosts, then DNS), as Podman's would answer."""

    def resolve(host: str) -> list[str]:
        lookup = _LOOKUPS.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout)
        except concurrent.futures.TimeoutError:
            raise OSError(f"resolving {host} took over {timeout} s") from None
        return sorted({str(info[4][0]) for info in infos})

    return resolve


class ResolveCache:
    """Answers of the createPods check, kept a few seconds: a burst of creates from one
    registry resolves its name once, not once per request (each lookup would hold the
    store's thread). Keyed by resolver too; bounded. The check right before each pull
    always asks the resolver afresh."""

    def __init__(self, ttl: float = 5.0, size: int = 1024, timer: Callable[[], float] = time.monotonic) -> None:
        self._answers: TTLCache[tuple[Resolver, str], Sequence[str] | OSError] = TTLCache(size, ttl, timer)
        self._lock = threading.Lock()

    def of(self, resolve: Resolver) -> Resolver:
        def cached(host: str) -> Sequence[str]:
            with self._lock:
                answer = self._answers.get((resolve, host))
            if answer is None:
                try:
                    answer = resolve(host)
                except OSError as e:
                    answer = e
                with self._lock:
                    self._answers[(resolve, host)] = answer
            if isinstance(answer, OSError):
                raise answer
            return answer

        return cached


def _addresses(resolve: Resolver, host: str) -> list[IPAddress] | None:
    """What ``host`` resolves to; None when it does not."""
    try:
        answers = resolve(host)
    except OSError:
        return None
    addresses = []
    for answer in answers:
        try:
            addresses.append(ipaddress.ip_address(answer.split("%", 1)[0]))  # no IPv6 zone
        except ValueError:
            continue
    return addresses


def image_refusal(policy: RegistryPolicy, resolve: Resolver, image: str) -> str | None:
    """Why ``image`` (a reference that parses) may not be pulled, or None."""
    name = parse_image(image).registry
    try:
        registry = registry_of(name)
    except ValueError as e:  # e.g. "[::::]": brackets around something that is not an address
        return f"registry {name} is not allowed by this podyard (it {e})"
    resolved = None
    host = registry.dial_host
    if host is not None and policy.by_address and not registry.numeric:
        resolved = _addresses(resolve, host)
    return refusal(registry, resolved, policy)


def check_container_images(ctx: ServiceContext, containers: Sequence[Any], where: str) -> None:
    """Every container's image comes from a registry this podyard allows; else a 400
    naming the field. Resolves names (each once in a few seconds: ResolveCache): call it
    outside a transaction."""
    resolve = ctx.resolve_cache.of(ctx.resolve)
    for i, c in enumerate(containers):
        reason = image_refusal(ctx.registry_policy, resolve, c.image)
        if reason:
            raise InvalidArgument(f"{where}[{i}].image: {reason}")
