"""Resource quotas per account and region."""

from __future__ import annotations

from enum import StrEnum

from podyard.domain.errors import QuotaExceeded


class ResourceType(StrEnum):
    POD = "pod"
    CONTAINER = "container"
    SECRET = "secret"


DEFAULT_LIMITS: dict[ResourceType, int] = {
    ResourceType.POD: 100,
    ResourceType.CONTAINER: 400,
    ResourceType.SECRET: 20,
}


def check_quota(resource: ResourceType, limit: int, used: int, asked: int) -> None:
    if used + asked > limit:
        raise QuotaExceeded(
            f"{resource} quota exceeded: {used} in use, {asked} asked, limit {limit} (describeQuota shows it)"
        )
