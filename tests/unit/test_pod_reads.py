"""store/pods.py reads pods two ways: straight through SQLite's DBAPI on the request path
(describePod, describePods), and through SQLAlchemy Core (PostgreSQL, tag filters, the
writers). Both must give the same records for every filter, page and pod."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from podyard.api import views
from podyard.domain.memo import Memo
from podyard.domain.records import PodRecord
from podyard.domain.regions import region_with_default_azs
from podyard.domain.specs.actions import CreatePodsRequest
from podyard.domain.specs.wire import parse_body
from podyard.services import accounts, pods
from podyard.services.context import ServiceContext
from podyard.store import elastic_ips, security_groups
from podyard.store import pods as stored
from podyard.store.crypto import SecretBox
from podyard.store.db import Database
from podyard.store.elastic_ips import NewElasticIp
from podyard.store.pods import PodFilter
from podyard.store.tables import Pod, PodContainer

REGION = "cn-north-1"
NAMES = ("web-1", "web.2", "db-1", "webx3", "cache")
TAGS = ((("env", "prod"),), (("env", "dev"), ("team", "a")), ((("team", "b")),), ())


class Pods:
    """An account's pods with varied names, zones, tags, phases and sizes; another
    account's pods with the same names."""

    def __init__(self, tmp: Path, url: str | None = None) -> None:
        self.db = Database(url or f"sqlite:///{tmp / 'podyard.db'}")
        self.db.migrate()
        self.ctx = ServiceContext(
            self.db,
            SecretBox(AESGCM.generate_key(bit_length=256)),
            region_with_default_azs(REGION),
            {"pod": 100, "container": 300, "secret": 5},
            "10.250.0.0/16",
            24,
        )
        self.account, self.net = accounts.create_account(self.ctx, "a")
        other, other_net = accounts.create_account(self.ctx, "b")
        azs = itertools.cycle(self.ctx.region.azs)
        phases = itertools.cycle(("pending", "running", "stopped", "error"))
        self.ids: list[str] = []
        for i, (name, tags) in enumerate(itertools.product(NAMES, TAGS)):
            containers = 1 + i % 3
            [pod_id] = self._create(self.account, self.net, f"{name}-{i}", next(azs), tags, containers)
            with self.db.write() as s:
                stored.apply_intent(s, pod_id, phase=next(phases), desired="running")
            self.ids.append(pod_id)
        self._create(other, other_net, "web-1", "cn-north-1a", (), 1)
        self.vpc_id, self.subnet_id = self.net.vpc_id, self.net.subnet_id

    def _create(self, account: Any, net: Any, name: str, az: str, tags: Any, containers: int) -> list[str]:
        body = {
            "podSpec": {
                "name": name,
                "instanceType": "g.s1.micro",
                "az": az,
                "containers": [
                    {
                        "name": f"c{k}",
                        "image": "busybox",
                        "command": ["sleep", "1"],
                        "systemDisk": {"category": "local"},
                    }
                    for k in range(containers)
                ],
                "primaryNetworkInterface": {
                    "networkInterface": {"subnetId": net.subnet_id, "securityGroups": [net.security_group_id]}
                },
                "userTags": [{"key": k, "value": v} for k, v in tags],
            },
            "maxCount": 1,
        }
        return pods.create_pods(self.ctx, account, REGION, parse_body(CreatePodsRequest, body))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pods]:
    made = Pods(tmp_path_factory.mktemp("reads"))
    yield made
    made.db.close()


def _filters(w: Pods) -> st.SearchStrategy[PodFilter]:
    few = lambda values: st.lists(st.sampled_from(values), max_size=3, unique=True)  # noqa: E731
    likes = st.none() | st.sampled_from(("web", "WEB", "_", "-1", "%", "/", "10.250.", ".1", "b.2", "b_2", "x"))
    return st.builds(
        PodFilter,
        pod_ids=few([*w.ids[:6], "pod-none"]),
        ip_like=likes,
        azs=few(list(w.ctx.region.azs)),
        vpc_ids=few([w.vpc_id, "vpc-none"]),
        phases=few(["pending", "running", "stopped", "error"]),
        name_like=likes,
        subnet_ids=few([w.subnet_id, "subnet-none"]),
        tags=st.lists(
            st.tuples(st.sampled_from(("env", "team", "none")), few(["prod", "dev", "a", "b"])), max_size=2
        ).map(tuple),
    )


def test_both_reads_give_the_same_pages_for_every_filter(world: Pods) -> None:
    @settings(max_examples=300, deadline=None)
    @given(f=_filters(world), number=st.integers(1, 4), size=st.integers(1, 12))
    def check(f: PodFilter, number: int, size: int) -> None:
        fast = stored.read_page(world.db, world.account.account_id, REGION, f, number, size)
        with world.db.read() as s:
            core = stored.page(s, world.account.account_id, REGION, f, number, size)
        assert fast == core

    check()


@pytest.mark.parametrize(
    ("f", "count"),
    [
        (PodFilter(name_like="WEB"), 12),  # contains, ignoring case: web-1, web.2, webx3
        (PodFilter(name_like="_"), 0),  # a literal underscore, not LIKE's any character
        (PodFilter(name_like="%"), 0),
        (PodFilter(name_like="b.2"), 4),
        (PodFilter(phases=["stopped"]), 5),
        (PodFilter(tags=(("env", ("prod",)),)), 5),
        (PodFilter(tags=(("team", ()),)), 10),  # the key, any value
        (PodFilter(vpc_ids=["vpc-none"]), 0),
    ],
)
def test_the_filters_match_what_they_say(world: Pods, f: PodFilter, count: int) -> None:
    """The data gives the filters something to match and something to leave out: two
    wrong reads could not agree by both matching everything."""
    for number in (1, 2):
        records, total = stored.read_page(world.db, world.account.account_id, REGION, f, number, 10)
        assert total == count and len(records) == max(0, min(10, count - 10 * (number - 1)))


def test_both_reads_give_the_same_pod(world: Pods) -> None:
    with world.db.read() as s:
        for pod_id in [*world.ids, "pod-none"]:
            core = stored.get(s, world.account.account_id, REGION, pod_id)
            assert stored.read_pod(world.db, world.account.account_id, REGION, pod_id) == core
            assert stored.read_pod(world.db, None, None, pod_id) == stored.get_any(s, pod_id)
            assert stored.read_pod(world.db, "acct-other", REGION, pod_id) is None
    assert stored.read_pod(world.db, world.account.account_id, REGION, world.ids[0]) is not None


def test_a_kept_record_or_wire_form_is_never_stale(tmp_path: Path) -> None:
    """The request path keeps a record, and its wire form, while the pod's stored content
    is the same: a poll is answered from the same objects, and a change to the pod's row,
    a container's row, a group's name or the elastic IP is seen at once."""
    w = Pods(tmp_path)
    account, pod_id = w.account.account_id, w.ids[0]
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def fresh() -> PodRecord:
        record = stored.read_pod(w.db, account, REGION, pod_id)
        with w.db.read() as s:
            assert record is not None and record == stored.get(s, account, REGION, pod_id)
        [paged] = stored.read_page(w.db, account, REGION, PodFilter(pod_ids=[pod_id]), 1, 10)[0]
        assert paged is record
        return record

    def wire(record: PodRecord, in_arrears: bool = False) -> dict[str, Any]:
        """describePod's dict, checked against describePods' encoded form, key for key in order."""
        made = views.pod(record, in_arrears, now)
        encoded = orjson.loads(orjson.dumps(views.pod_encoded(record, in_arrears, now)))
        assert encoded == made and list(encoded) == list(made)
        return made

    first = fresh()
    assert fresh() is first
    assert wire(first) == wire(first)
    charged = wire(first, True)["charge"]["chargeStatus"]
    assert charged != wire(first)["charge"]["chargeStatus"]  # made anew each time

    with w.db.write() as s:
        stored.apply_intent(s, pod_id, phase="stopped", desired="stopped")
    after_phase = fresh()
    assert after_phase is not first and after_phase.phase == "stopped"
    assert wire(after_phase)["podStatus"]["phase"] == "stopped"

    name = after_phase.containers[0].name
    with w.db.write() as s:
        stored.replace_container_specs(s, pod_id, {name: {**after_phase.containers[0].spec, "workingDir": "/srv"}})
    after_spec = fresh()
    assert after_spec.containers[0].spec["workingDir"] == "/srv"
    assert wire(after_spec)["containers"][0]["workingDir"] == "/srv"

    group_id = w.net.security_group_id
    with w.db.write() as s:
        security_groups.set_attributes(s, group_id, {"name": "renamed"})
    assert fresh().security_groups == ((group_id, "renamed"),)

    new = NewElasticIp(account, REGION, None, 1, "bgp", (), "postpaid_by_duration")
    with w.db.write() as s:
        eip_id = elastic_ips.insert_at(s, new, "127.0.0.9", now)
        elastic_ips.associate(s, eip_id, pod_id)
    with_eip = fresh()
    assert with_eip.elastic_ip == (eip_id, "127.0.0.9")
    assert wire(with_eip)["elasticIp"] == {"elasticIpId": eip_id, "elasticIpAddress": "127.0.0.9"}
    w.db.close()


def test_the_database_bumps_a_pods_revision_on_every_change(tmp_path: Path, db_url: str) -> None:
    """The kept reads trust ``pods.revision`` to move whenever the pod's row or one of its
    containers' rows changes: the triggers of migration 0009, on each database."""
    w = Pods(tmp_path, db_url)
    pod_id, other = w.ids[0], w.ids[1]

    def revisions() -> tuple[int, int]:
        with w.db.read() as s:
            got = dict(s.execute(select(Pod.pod_id, Pod.revision).where(Pod.pod_id.in_([pod_id, other]))).all())
        return got[pod_id], got[other]

    steps: list[tuple[str, Callable[[Session], Any]]] = [
        ("the pod's row", lambda s: stored.apply_intent(s, pod_id, phase="stopped", desired="stopped")),
        ("a container's spec", lambda s: stored.replace_container_specs(s, pod_id, {"c0": {"image": "other"}})),
        ("a container's status", lambda s: s.execute(
            update(PodContainer).where(PodContainer.pod_id == pod_id).values(status={"state": "x"}))),
        ("a container added", lambda s: s.add(
            PodContainer(pod_id=pod_id, name="late", position=9, spec={}, status={}))),
        ("a container removed", lambda s: s.execute(
            delete(PodContainer).where(PodContainer.pod_id == pod_id, PodContainer.name == "late"))),
    ]  # fmt: skip
    for what, change in steps:
        before, other_before = revisions()
        with w.db.write() as s:
            change(s)
        after, other_after = revisions()
        assert after > before, what
        assert other_after == other_before, what  # only the pod changed moves
    with w.db.write() as s:  # a write that changes no row of it leaves it be
        stored.apply_intent(s, other, phase="stopped", desired="stopped")
    assert revisions()[0] == after
    w.db.close()


def test_the_memo_is_bounded() -> None:
    memo: Memo[int, str] = Memo(3)
    for i in range(10):
        memo.put(i, str(i))
    assert len(memo) == 3
    assert [memo.get(i) for i in range(10)] == [None] * 7 + ["7", "8", "9"]
