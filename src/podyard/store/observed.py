"""What the reconciler reads and writes, each call its own short transaction."""

from __future__ import annotations

from dataclasses import dataclass

from podyard.domain.netplan import VpcPlan
from podyard.domain.records import DiskRecord, PodRecord, SnapshotRecord, SubnetRecord
from podyard.domain.secrets import RegistryAuth
from podyard.store import disks, netplan, networks, pods, secrets, snapshots
from podyard.store.crypto import SecretBox
from podyard.store.db import Database
from podyard.store.pods import Observation


@dataclass(frozen=True)
class DiskInventory:
    """Every disk and snapshot the store knows, the attached disks, and the pods (whose
    cloud system disks are disks of the disk part too)."""

    disks: set[str]
    attached: set[str]
    snapshots: set[str]
    pods: list[PodRecord]


class ObservedStore:
    def __init__(self, db: Database, box: SecretBox) -> None:
        self.db = db
        self.box = box

    def registry_auth(self, account_id: str, region: str, secret: str) -> RegistryAuth | None:
        """The credentials a container pulls its image with (None if the secret is gone)."""
        with self.db.read() as s:
            found = secrets.get(s, self.box, account_id, region, secret)
        return found.auth() if found else None

    def pod(self, pod_id: str) -> PodRecord | None:
        return pods.read_pod(self.db, None, None, pod_id)

    def subnet(self, subnet_id: str) -> SubnetRecord | None:
        with self.db.read() as s:
            return networks.subnet_by_id(s, subnet_id)

    def pod_ids(self) -> list[str]:
        with self.db.read() as s:
            return pods.all_pod_ids(s)

    def save(self, pod_id: str, intent_version: int, obs: Observation) -> bool:
        with self.db.write() as s:
            return pods.save_observation(s, pod_id, intent_version, obs)

    def forget(self, pod_id: str, intent_version: int) -> bool:
        """Delete the pod's rows and free its address, unless a newer intent arrived."""
        with self.db.write() as s:
            current = pods.get_any(s, pod_id, lock=True)
            if current is None or current.intent_version != intent_version:
                return False
            pods.delete_pod(s, pod_id)
            disks.release_pod(s, pod_id)
            return True

    def vpc_plan(self, vpc_id: str, eip_pool: str, inner_pool: str) -> VpcPlan | None:
        with self.db.read() as s:
            return netplan.vpc_plan(s, vpc_id, eip_pool, inner_pool)

    def vpc_ids(self) -> set[str]:
        with self.db.read() as s:
            return netplan.vpc_ids(s)

    def pod_vpcs(self) -> dict[str, str]:
        with self.db.read() as s:
            return netplan.pod_vpcs(s)

    # -- disks and snapshots (control/disks.py) --

    def disks_of_pod(self, pod_id: str) -> list[DiskRecord]:
        with self.db.read() as s:
            return disks.of_pod(s, pod_id)

    def disk_inventory(self) -> DiskInventory:
        with self.db.read() as s:
            rows = disks.holders(s)
            snaps = snapshots.all_ids(s)
            pod_ids = pods.all_pod_ids(s)
        found = [p for pod_id in pod_ids if (p := self.pod(pod_id)) is not None]
        return DiskInventory(set(rows), {d for d, pod_id in rows.items() if pod_id}, snaps, found)

    def disks_to_make(self) -> list[DiskRecord]:
        with self.db.read() as s:
            return disks.to_make(s)

    def disks_to_format(self) -> list[DiskRecord]:
        with self.db.read() as s:
            return disks.to_format(s)

    def disks_to_remove(self) -> list[DiskRecord]:
        with self.db.read() as s:
            return disks.to_remove(s)

    def disk_made(self, disk_id: str) -> None:
        with self.db.write() as s:
            disks.made(s, disk_id)

    def disk_formatted(self, disk_id: str) -> None:
        with self.db.write() as s:
            disks.formatted(s, disk_id)

    def disk_failed(self, disk_id: str) -> None:
        with self.db.write() as s:
            disks.failed(s, disk_id)

    def disk_removed(self, disk_id: str) -> None:
        with self.db.write() as s:
            disks.removed(s, disk_id)

    def snapshots_to_take(self) -> list[SnapshotRecord]:
        with self.db.read() as s:
            return snapshots.to_take(s)

    def snapshots_to_remove(self) -> list[SnapshotRecord]:
        with self.db.read() as s:
            return snapshots.to_remove(s)

    def snapshot_taken(self, snapshot_id: str) -> None:
        with self.db.write() as s:
            snapshots.taken(s, snapshot_id)

    def snapshot_failed(self, snapshot_id: str) -> None:
        with self.db.write() as s:
            snapshots.failed(s, snapshot_id)

    def snapshot_removed(self, snapshot_id: str) -> None:
        with self.db.write() as s:
            snapshots.removed(s, snapshot_id)
