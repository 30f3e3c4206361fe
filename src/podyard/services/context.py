"""What every use case needs: the store, the served region, quota defaults, a nudge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from podyard.domain.errors import InvalidArgument
from podyard.domain.regions import Region
from podyard.domain.registries import RegistryPolicy
from podyard.services.resolving import ResolveCache, Resolver, system_resolver
from podyard.services.sessions import Sessions
from podyard.store.crypto import SecretBox
from podyard.store.db import Database

if TYPE_CHECKING:
    from podyard.runtime.protocol import Runtime


# Who makes cloud disks and snapshots real: "control" (its disk job: a disk is creating,
# or deleting, until control says it is made, or gone: store/disks.py), or "at_once" (no
# disk part, the fake runtime: the store's word is final at once). None: nothing makes
# disks on this host yet, so nothing creates one (501).
DiskMaker = Literal["control", "at_once"]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class ServiceContext:
    db: Database
    secret_box: SecretBox
    region: Region
    quota_defaults: dict[str, int]
    network_pool: str
    subnet_prefix: int
    elastic_ip_pool: str = "127.100.0.0/24"
    nudge: Callable[[str], None] = lambda _pod_id: None
    # After a committed change the network of a VPC must follow (rules, groups, elastic IPs).
    nudge_vpc: Callable[[str], None] = lambda _vpc_id: None
    now: Callable[[], datetime] = field(default=utcnow)
    runtime: Runtime | None = None  # set once the runtime is up
    sessions: Sessions = field(default_factory=Sessions)
    # Which registries images may come from, and how their names are resolved for it.
    registry_policy: RegistryPolicy = field(default_factory=RegistryPolicy.parse)
    resolve: Resolver = field(default_factory=system_resolver)
    resolve_cache: ResolveCache = field(default_factory=ResolveCache)
    disk_maker: DiskMaker | None = None
    # After a committed change control's disk worker has work (disks, snapshots to make or remove).
    nudge_disks: Callable[[], None] = lambda: None
    # Disks are sparse: all disks' sizes together may reach disk_overcommit × the bytes
    # disk_capacity() says the host can give them (app.py: services/disk_space.host_capacity).
    # None: no room check.
    disk_capacity: Callable[[], int] | None = None
    disk_overcommit: float = 4.0

    def check_region(self, region_id: str) -> None:
        if region_id != self.region.region_id:
            raise InvalidArgument(
                f"regionId: region {region_id!r} is not served here; this podyard serves {self.region.region_id}"
            )
