"""What the reconciler reads and writes, each call its own short transaction."""

from __future__ import annotations

from podyard.domain.records import PodRecord, SubnetRecord
from podyard.store import networks, pods
from podyard.store.db import Database
from podyard.store.pods import Observation


class ObservedStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def pod(self, pod_id: str) -> PodRecord | None:
        with self.db.read() as s:
            return pods.get_any(s, pod_id)

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
            current = pods.get_any(s, pod_id)
            if current is None or current.intent_version != intent_version:
                return False
            pods.delete_pod(s, pod_id)
            return True
