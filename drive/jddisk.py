"""The official SDK's DiskClient, as a test or a benchmark talks to podyard's disk service through it.

DiskClient signs with the service name ``disk`` in the credential scope, so podyard
routes its requests by the disk table (its ``/quotas`` is not the pod service's).
Errors come back as ``JdError``.
"""

from __future__ import annotations

import uuid
from typing import Any

from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.services.disk.client.DiskClient import DiskClient
from jdcloud_sdk.services.disk.models.DiskSpec import DiskSpec
from jdcloud_sdk.services.disk.models.SnapshotSpec import SnapshotSpec

from drive.jd import REGION, Account, Jd

AZ = "cn-north-1a"


class JdDisk(Jd):
    """A DiskClient bound to one account (credential scope ``disk``)."""

    def __init__(self, endpoint: str, account: Account, region: str = REGION, timeout: int = 60) -> None:
        super().__init__(endpoint, account, region, timeout=timeout, service="disk")
        self.client = DiskClient(
            Credential(account.access_key, account.secret_key),
            Config(endpoint, scheme="http", timeout=timeout),
            Logger(0),
        )

    # The actions, spelled as a user would.
    def create_disks(
        self,
        count: int = 1,
        size: int = 20,
        disk_type: str = "ssd.gp1",
        name: str = "data",
        token: str | None = None,
        az: str = AZ,
        **spec: Any,
    ) -> list[str]:
        optional = {k: spec.pop(k) for k in ("userTags",) if k in spec}
        disk_spec = DiskSpec(az, name, disk_type, size, **spec)
        return list(self.call("createDisks", disk_spec, count, token or _token(), **optional)["diskIds"])

    def disk(self, disk_id: str) -> dict[str, Any]:
        return dict(self.call("describeDisk", disk_id)["disk"])

    def disks(self, **optional: Any) -> dict[str, Any]:
        return dict(self.call("describeDisks", **optional))

    def delete_disk(self, disk_id: str) -> None:
        self.call("deleteDisk", disk_id)

    def create_snapshot(self, disk_id: str, name: str = "snap", token: str | None = None, **spec: Any) -> str:
        return str(self.call("createSnapshot", SnapshotSpec(name, disk_id, **spec), token or _token())["snapshotId"])

    def snapshot(self, snapshot_id: str) -> dict[str, Any]:
        return dict(self.call("describeSnapshot", snapshot_id)["snapshot"])

    def snapshots(self, **optional: Any) -> dict[str, Any]:
        return dict(self.call("describeSnapshots", **optional))

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.call("deleteSnapshot", snapshot_id)

    def quota(self, kind: str) -> dict[str, Any]:
        return dict(self.call("describeQuota", kind)["quota"])


def _token() -> str:
    return uuid.uuid4().hex
