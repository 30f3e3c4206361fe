"""What the reconciler reads and writes, each call its own short transaction."""

from __future__ import annotations

from podyard.domain.netplan import VpcPlan
from podyard.domain.records import PodRecord, SubnetRecord
from podyard.domain.secrets import RegistryAuth
from podyard.store import disks, netplan, networks, pods, secrets
from podyard.store.crypto import SecretBox
from podyard.store.db import Database
from podyard.store.pods import Observation


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
