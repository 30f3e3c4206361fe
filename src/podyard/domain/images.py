"""Container image references: the grammar of distribution/reference and the docs' length rules."""

from __future__ import annotations

import re
from dataclasses import dataclass

IMAGE_MAX = 639
REPOSITORY_MAX = 256
TAG_MAX = 128
REGISTRY_MAX = 255
DEFAULT_REGISTRY = "docker.io"
DEFAULT_TAG = "latest"

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[_.]|__|[-]+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def canonical(self) -> str:
        """The fully qualified reference a runtime pulls: registry/repository[:tag][@digest]."""
        ref = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{ref}@{self.digest}" if not self.tag else f"{ref}:{self.tag}@{self.digest}"
        return f"{ref}:{self.tag or DEFAULT_TAG}"


def parse_image(image: str) -> ImageRef:
    """Parse an image name such as ``nginx``, ``mysql/mysql-server:8`` or
    ``127.0.0.1:5000/team/app@sha256:...``; raise ValueError saying what is wrong."""
    if not image or len(image) > IMAGE_MAX:
        raise ValueError(f"must be 1-{IMAGE_MAX} characters")
    rest, digest = image, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        if not _DIGEST.match(digest):
            raise ValueError("has an invalid digest (expected algorithm:hex)")
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
        if not _TAG.match(tag):
            raise ValueError(f"has an invalid tag {tag!r}: up to {TAG_MAX} of letters, digits, '_', '.', '-'")
    parts = rest.split("/")
    registry = DEFAULT_REGISTRY
    first = parts[0]
    if len(parts) > 1 and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, parts = first, parts[1:]
        if len(registry) > REGISTRY_MAX or not _DOMAIN.match(registry):
            raise ValueError(f"has an invalid registry {registry!r}")
    if not parts or not all(_PATH_COMPONENT.match(p) for p in parts):
        raise ValueError(
            "has an invalid repository: lowercase letters, digits and separators ('.', '_', '-') "
            "in '/'-separated components"
        )
    repository = "/".join(parts)
    if registry == DEFAULT_REGISTRY and len(parts) == 1:
        repository = f"library/{repository}"
    if len(repository) > REPOSITORY_MAX:
        raise ValueError(f"has a repository longer than {REPOSITORY_MAX} characters")
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=digest)
