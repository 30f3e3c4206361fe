"""Whether an image's registry may be pulled from: its name resolved (with a timeout),
then the operator's lists applied (the rule is ``domain/registries.py``).

createPods and rebuildPod check every container's image before anything is written;
the reconciler checks again right before each pull (``control/images.py``), which
narrows, but cannot close, the window in which a name's DNS answer can change: Podman
resolves the name again itself when it pulls (docs/api-notes.md, "Registries").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from podyard.domain.errors import InvalidArgument
from podyard.domain.images import parse_image
from podyard.domain.registries import IPAddress, RegistryPolicy, refusal, registry_of
from podyard.services.resolving import Resolver

if TYPE_CHECKING:
    from podyard.services.context import ServiceContext


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
