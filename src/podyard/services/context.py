"""What every use case needs: the store, the served region, quota defaults, a nudge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from podyard.domain.errors import InvalidArgument
from podyard.domain.regions import Region
from podyard.services.sessions import Sessions
from podyard.store.crypto import SecretBox
from podyard.store.db import Database

if TYPE_CHECKING:
    from podyard.runtime.protocol import Runtime


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

    def check_region(self, region_id: str) -> None:
        if region_id != self.region.region_id:
            raise InvalidArgument(
                f"regionId: region {region_id!r} is not served here; this podyard serves {self.region.region_id}"
            )
