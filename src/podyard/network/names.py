"""The names of what podyard makes on the host. Each carries the instance's tag, so two
podyards on one host, and a teardown, never touch each other's. Interface names have at
most 15 characters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


def _h(value: str, n: int = 8) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:n]


@dataclass(frozen=True)
class Names:
    tag: str  # 4 characters [0-9a-z]

    @classmethod
    def for_instance(cls, instance: str) -> Names:
        return cls(_h(instance, 4))

    @property
    def ns_prefix(self) -> str:
        return f"podyard-{self.tag}-"

    def vpc_ns(self, vpc_id: str) -> str:
        """The VPC's network namespace (under /run/netns)."""
        return f"{self.ns_prefix}{vpc_id}"

    def vpc_of_ns(self, ns: str) -> str | None:
        return ns[len(self.ns_prefix) :] if ns.startswith(self.ns_prefix) else None

    @property
    def uplink_prefix(self) -> str:
        return f"pd{self.tag}u"

    def uplink(self, vpc_id: str) -> str:
        """The host end of the VPC's uplink (its other end is ``uplink`` in the VPC)."""
        return f"{self.uplink_prefix}{_h(vpc_id)}"

    def port(self, pod_id: str) -> str:
        """The VPC's end of a pod's interface (the pod's end is its eth0)."""
        return f"p{_h(pod_id, 12)}"

    @property
    def table(self) -> str:
        """The nftables tables, in the host and in each VPC namespace."""
        return f"podyard_{self.tag}"


VPC_UPLINK = "uplink"
