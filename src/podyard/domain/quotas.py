"""Resource quotas per account and region."""

from __future__ import annotations

from enum import StrEnum

from podyard.domain.errors import QuotaExceeded
from podyard.domain.specs.wire import INTEGER_MAX


class ResourceType(StrEnum):
    POD = "pod"
    CONTAINER = "container"
    SECRET = "secret"


DEFAULT_LIMITS: dict[ResourceType, int] = {
    ResourceType.POD: 100,
    ResourceType.CONTAINER: 400,
    ResourceType.SECRET: 20,
}


class VpcResource(StrEnum):
    """The VPC service's quota types (describeQuota ``type``), as the SDK names them."""

    VPC = "vpc"  # per account and region
    ELASTIC_IP = "elastic_ip"  # per account and region
    SUBNET = "subnet"  # per VPC (parentResourceId: the VPC id)
    SECURITY_GROUP = "security_group"  # per VPC
    SECURITY_GROUP_RULE = "securityGroupRule"  # per security group (parentResourceId: its id)


VPC_LIMITS: dict[VpcResource, int] = {
    VpcResource.VPC: 10,
    VpcResource.ELASTIC_IP: 20,
    VpcResource.SUBNET: 50,
    VpcResource.SECURITY_GROUP: 50,
    VpcResource.SECURITY_GROUP_RULE: 100,
}


class DiskResource(StrEnum):
    """The disk service's quota types (describeQuota ``type``), per account and region."""

    DISK = "disk"
    SNAPSHOT = "snapshot"


DISK_LIMITS: dict[DiskResource, int] = {
    DiskResource.DISK: 50,
    DiskResource.SNAPSHOT: 15,  # the createSnapshot docs: 15 per user and region
}
# Every type an account's quota can be set for (the pod service's, the VPC service's, the disk service's).
QUOTA_TYPES: tuple[str, ...] = tuple(t.value for t in (*ResourceType, *VpcResource, *DiskResource))

# A network interface carries 1 to 5 security groups.
MAX_GROUPS_PER_INTERFACE = 5


def limit_error(limit: int) -> str | None:
    """What is wrong with a quota limit an operator sets: describeQuota shows it as the
    API's 32-bit Integer, and the database keeps it as one."""
    if not 0 <= limit <= INTEGER_MAX:
        return f"a quota limit is 0 to {INTEGER_MAX}"
    return None


def check_quota(resource: ResourceType | VpcResource | DiskResource, limit: int, used: int, asked: int) -> None:
    if used + asked > limit:
        raise QuotaExceeded(
            f"{resource} quota exceeded: {used} in use, {asked} asked, limit {limit} (describeQuota shows it)"
        )
