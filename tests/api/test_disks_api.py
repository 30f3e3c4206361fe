"""The disk service through the official SDK against podyard with the fake runtime:
createDisks, describeDisk(s), deleteDisk, the snapshot actions and describeQuota
(DiskClient, scope ``disk``), and createPods' volumes, describePod's volumes, deletePod's
disks (PodClient). With the fake runtime there is no disk part: a disk's status is final
at once (``disk_maker`` "at_once"); the "control" mode is driven here by the store calls
control will make."""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.disk.models.Disk import Disk
from jdcloud_sdk.services.disk.models.DiskAttachment import DiskAttachment
from jdcloud_sdk.services.disk.models.Snapshot import Snapshot
from jdcloud_sdk.services.disk.models.Tag import Tag
from jdcloud_sdk.services.disk.models.TagFilter import TagFilter
from jdcloud_sdk.services.pod.models.JDCloudVolumeSource import JDCloudVolumeSource
from jdcloud_sdk.services.pod.models.JDCloudVolumeSourceSpec import JDCloudVolumeSourceSpec
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec
from jdcloud_sdk.services.pod.models.Volume import Volume
from jdcloud_sdk.services.pod.models.VolumeMount import VolumeMount
from jdcloud_sdk.services.pod.models.VolumeMountSpec import VolumeMountSpec
from jdcloud_sdk.services.pod.models.VolumeSpec import VolumeSpec

from drive.harness import wait_for
from drive.jd import Account, Jd, JdError, container, pod_spec
from drive.jddisk import AZ, JdDisk
from drive.jdvpc import set_quota
from podyard.domain.disks import GB
from podyard.services import accounts
from podyard.store import disks as disk_store
from podyard.store import snapshots as snapshot_store
from tests.api.test_bad_input import body

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
DISK_ID = re.compile(r"^vol-[a-z0-9]{10}$")


@pytest.fixture(autouse=True)
def roomy_host(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host with room for every disk here (1 PiB), unless a test sets its own."""
    if "fake_server" in request.fixturenames:
        server = request.getfixturevalue("fake_server")
        monkeypatch.setattr(server.app.ctx, "disk_capacity", lambda: 2**50)


def client(server: Any, account: Account | None = None) -> JdDisk:
    return JdDisk(server.endpoint, account or server.admin)


def refused(code: int, status: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    with pytest.raises(JdError) as e:
        fn(*args, **kwargs)
    assert (e.value.code, e.value.status) == (code, status), e.value
    return e.value.message


def fields(model: type) -> set[str]:
    """The attributes an SDK model has: the parameters of its constructor."""
    params = inspect.signature(model.__init__).parameters
    return {p for p in params if p != "self"}


def volume(name: str = "data", **source: Any) -> VolumeSpec:
    fs = source.pop("fsType", None)
    if "volumeId" not in source and "snapshotId" not in source:
        source = {"diskType": "ssd.gp1", "sizeGB": 20, **source}
    return VolumeSpec(name, JDCloudVolumeSourceSpec(fs, **source))


def pod_with(jd: Jd, name: str, volumes: list[Any], mounts: list[Any] | None = None, count: int = 1) -> list[str]:
    return jd.create_pods(pod_spec(jd.account, name, [container(volumeMounts=mounts)], volumes=volumes), count)


def count_disks(dk: JdDisk) -> int:
    return int(dk.disks()["totalCount"])


def delete_pod(server: Any, jd: Jd, pod_id: str) -> None:
    """deletePod once the pod runs, then wait until it is gone."""
    wait_for(lambda: jd.pod(pod_id)["podStatus"]["phase"] == "running", 10, "the pod running")
    jd.call("deletePod", pod_id)
    server.settle()
    wait_for(lambda: gone(jd, pod_id), 10, "the pod gone")


def gone(jd: Jd, pod_id: str) -> bool:
    try:
        jd.pod(pod_id)
    except JdError as e:
        return e.code == 404
    return False


# -- the disk service --


def test_create_and_describe_a_disk(fake_server) -> None:
    dk = client(fake_server)
    [disk_id] = dk.create_disks(size=30, name="web_数据-1", description="logs", userTags=[Tag("team", "a")])
    assert DISK_ID.match(disk_id)
    shown = dk.disk(disk_id)
    assert set(shown) == fields(Disk)
    assert TIME.match(shown["createTime"]) and shown["charge"]["chargeStartTime"] == shown["createTime"]
    assert shown == {
        **shown,
        "diskId": disk_id,
        "az": AZ,
        "name": "web_数据-1",
        "description": "logs",
        "diskType": "ssd.gp1",
        "diskSizeGB": 30,
        "iops": None,  # iops applies to ssd.io1 only
        "status": "available",
        "attachments": [],
        "snapshotId": None,
        "multiAttachable": False,
        "encrypted": False,
        "tags": [{"key": "team", "value": "a"}],
    }
    assert shown["charge"]["chargeMode"] == "postpaid_by_duration" and shown["charge"]["chargeStatus"] == "normal"
    assert dk.disks()["disks"] == [shown]


def test_batch_names_io1_iops_and_both_type_sets(fake_server) -> None:
    dk = client(fake_server)
    ids = dk.create_disks(3, 20, "ssd", name="batch")
    assert [dk.disk(i)["name"] for i in ids] == ["batch-1", "batch-2", "batch-3"]
    [io1] = dk.create_disks(size=100, disk_type="ssd.io1")
    assert dk.disk(io1)["iops"] == 3000  # 30 per GB unless given
    [io1b] = dk.create_disks(size=100, disk_type="ssd.io1", iops=5000)  # at most 50 per GB
    assert dk.disk(io1b)["iops"] == 5000
    [big] = dk.create_disks(size=16000, disk_type="hdd.std1")
    [hdd] = dk.create_disks(size=3000, disk_type="premium-hdd")
    assert (dk.disk(big)["diskSizeGB"], dk.disk(hdd)["diskType"]) == (16000, "premium-hdd")


def test_client_token_is_idempotent(fake_server) -> None:
    dk = client(fake_server)
    first = dk.create_disks(2, token="abc")
    assert dk.create_disks(2, token="abc") == first and count_disks(dk) == 2
    assert "clientToken" in refused(400, "INVALID_ARGUMENT", dk.create_disks, 3, token="abc")
    snap = dk.create_snapshot(first[0], token="s1")
    assert dk.create_snapshot(first[0], token="s1") == snap
    assert dk.snapshots()["totalCount"] == 1
    assert "clientToken" in refused(400, "INVALID_ARGUMENT", dk.create_snapshot, first[1], token="s1")
    # The tokens of createDisks and createSnapshot, and the other accounts', are apart.
    assert dk.create_disks(1, token="s1") != first
    other = client(fake_server, fake_server.new_account("other"))
    assert other.create_disks(2, token="abc") != first


def test_describe_disks_filters_and_paging(fake_server) -> None:
    dk = client(fake_server)
    gp1 = dk.create_disks(12, 20, "ssd.gp1", name="alpha")
    hdd = dk.create_disks(11, 40, "hdd.std1", name="Beta", userTags=[Tag("env", "prod")])
    jd = fake_server.jd()
    [pod_id] = pod_with(jd, "holder", [volume(volumeId=gp1[0])])
    everything = dk.disks(pageSize=100)["disks"]
    order = [d["diskId"] for d in everything]  # oldest first, ties by id
    assert sorted(order) == sorted(gp1 + hdd)
    assert order == sorted(order, key=lambda i: (next(d["createTime"] for d in everything if d["diskId"] == i), i))
    page2 = dk.disks(pageSize=10, pageNumber=2)
    assert [d["diskId"] for d in page2["disks"]] == order[10:20] and page2["totalCount"] == 23
    assert [d["diskId"] for d in dk.disks(pageSize=10, pageNumber=9)["disks"]] == order[20:]  # past: the last
    assert len(dk.disks()["disks"]) == 20  # pageSize 20 by default

    def ids(*filters: Filter, **optional: Any) -> set[str]:
        found = [d["diskId"] for d in dk.disks(filters=list(filters), pageSize=100, **optional)["disks"]]
        assert found == [i for i in order if i in found]
        return set(found)

    alpha = {d["diskId"] for d in everything if d["name"] in ("alpha-1", "alpha-10", "alpha-11", "alpha-12")}
    assert ids(Filter("diskId", [gp1[1], hdd[0], "vol-nope"])) == {gp1[1], hdd[0]}
    assert ids(Filter("diskType", ["hdd.std1", "ssd"])) == set(hdd)
    assert ids(Filter("status", ["in-use"])) == {gp1[0]}
    assert ids(Filter("status", ["available", "in-use"]), Filter("diskType", ["ssd.gp1"])) == set(gp1)
    assert ids(Filter("status", ["extending"])) == set()  # a documented status podyard never shows
    assert ids(Filter("instanceId", [pod_id])) == {gp1[0]}
    assert ids(Filter("instanceType", ["pod"])) == {gp1[0]} and ids(Filter("instanceType", ["vm", "nc"])) == set()
    assert ids(Filter("az", [AZ])) == set(order) and ids(Filter("az", ["cn-north-1b"])) == set()
    assert ids(Filter("name", ["bet"])) == set(hdd)  # fuzzy, case ignored
    assert ids(Filter("name", ["alpha-1"])) == alpha and len(alpha) == 4
    assert ids(Filter("multiAttach", ["false"])) == set(order) and ids(Filter("multiAttach", ["true"])) == set()
    assert ids(Filter("encrypted", ["true"])) == set() and ids(Filter("policyId", ["p-1"])) == set()
    assert ids(Filter("notPolicyId", ["p-1"])) == set(order)
    assert ids(tags=[TagFilter("env", ["prod"])]) == set(hdd) and ids(tags=[TagFilter("env", ["dev"])]) == set()
    for bad, where in (
        (Filter("zone", ["x"]), "filters[0].name"),
        (Filter("status", ["broken"]), "status"),
        (Filter("diskType", ["ssd.io2"]), "diskType"),
        (Filter("name", ["a", "b"]), "filters[0].values"),
        (Filter("diskId", ["x"], operator="gt"), "filters[0].operator"),
        (Filter("multiAttach", ["maybe"]), "multiAttach"),
    ):
        assert where in refused(400, "INVALID_ARGUMENT", dk.disks, filters=[bad])


def test_delete_a_disk(fake_server) -> None:
    dk = client(fake_server)
    [a, b] = dk.create_disks(2)
    dk.delete_disk(a)
    assert "diskId" in refused(404, "NOT_FOUND", dk.disk, a)
    assert "diskId" in refused(404, "NOT_FOUND", dk.delete_disk, a)
    assert [d["diskId"] for d in dk.disks()["disks"]] == [b]
    assert "putInRecycleBin" in refused(400, "INVALID_ARGUMENT", dk.call, "deleteDisk", b, putInRecycleBin=True)
    dk.call("deleteDisk", b, putInRecycleBin=False)
    assert count_disks(dk) == 0


def test_snapshots(fake_server) -> None:
    dk = client(fake_server)
    [disk_id] = dk.create_disks(size=50)
    snap = dk.create_snapshot(disk_id, "nightly", description="before upgrade")
    assert re.match(r"^snapshot-[a-z0-9]{10}$", snap)
    shown = dk.snapshot(snap)
    assert set(shown) == fields(Snapshot) and TIME.match(shown["createTime"])
    assert shown == {
        **shown,
        "snapshotId": snap,
        "snapshotSource": "self",
        "diskId": disk_id,
        "snapshotSizeGB": 50,
        "name": "nightly",
        "description": "before upgrade",
        "status": "available",
    }
    other = dk.create_snapshot(disk_id, "weekly")
    listed = dk.snapshots()
    assert listed["totalCount"] == 2 and {s["snapshotId"] for s in listed["snapshots"]} == {snap, other}

    def ids(*filters: Filter, **optional: Any) -> set[str]:
        return {s["snapshotId"] for s in dk.snapshots(filters=list(filters), **optional)["snapshots"]}

    assert ids(Filter("snapshotId", [other])) == {other}
    assert ids(Filter("diskId", [disk_id])) == {snap, other} and ids(Filter("diskId", ["vol-x"])) == set()
    assert ids(Filter("status", ["available"])) == {snap, other} and ids(Filter("status", ["creating"])) == set()
    assert ids(Filter("name", ["NIGHT"])) == {snap}
    assert ids(snapshotSource="others") == set() and ids(snapshotSource="private") == {snap, other}
    assert "status" in refused(400, "INVALID_ARGUMENT", dk.snapshots, filters=[Filter("status", ["gone"])])
    # A disk made from a snapshot: at least its size, its id shown; the snapshot outlives its disk.
    assert "diskSizeGB" in refused(400, "INVALID_ARGUMENT", dk.create_disks, size=40, snapshotId=snap)
    [copy] = dk.create_disks(size=60, snapshotId=snap)
    assert dk.disk(copy)["snapshotId"] == snap and dk.disk(copy)["diskSizeGB"] == 60
    dk.delete_disk(disk_id)
    assert dk.snapshot(snap)["diskId"] == disk_id
    dk.delete_snapshot(snap)
    assert "snapshotId" in refused(404, "NOT_FOUND", dk.snapshot, snap)
    assert "snapshotId" in refused(404, "NOT_FOUND", dk.delete_snapshot, snap)
    assert dk.disk(copy)["snapshotId"] == snap  # a disk keeps the id of the snapshot it came from
    assert "snapshotId" in refused(404, "NOT_FOUND", dk.create_disks, size=60, snapshotId=snap)
    assert "snapshotSpec.diskId" in refused(404, "NOT_FOUND", dk.create_snapshot, disk_id)


def test_in_flight_work_holds_its_sources(fake_server) -> None:
    """A snapshot being taken holds its disk; a disk being made from a snapshot holds it."""
    dk = client(fake_server)
    [disk_id] = dk.create_disks()
    snap, taking = dk.create_snapshot(disk_id), dk.create_snapshot(disk_id)
    [copy] = dk.create_disks(snapshotId=snap)
    db = fake_server.app.ctx.db
    with db.write() as s:
        snapshot_store.set_status(s, taking, "creating")
        disk_store.set_status(s, copy, "creating")
    assert taking in refused(400, "FAILED_PRECONDITION", dk.delete_disk, disk_id)
    assert copy in refused(400, "FAILED_PRECONDITION", dk.delete_snapshot, snap)
    assert "is creating" in refused(400, "FAILED_PRECONDITION", dk.delete_snapshot, taking)
    assert "creating" in refused(400, "FAILED_PRECONDITION", dk.delete_disk, copy)
    assert "creating" in refused(400, "FAILED_PRECONDITION", dk.create_snapshot, copy)
    assert "creating" in refused(400, "FAILED_PRECONDITION", dk.create_disks, snapshotId=taking)
    assert dk.snapshots()["totalCount"] == 2 and count_disks(dk) == 2


def test_quotas(fake_server) -> None:
    dk = client(fake_server)
    assert dk.quota("disk") == {"limit": 50, "used": 0}
    assert dk.quota("snapshot") == {"limit": 15, "used": 0}  # the createSnapshot docs
    ids = dk.create_disks(2)
    dk.create_snapshot(ids[0])
    assert dk.quota("disk") == {"limit": 50, "used": 2} and dk.quota("snapshot")["used"] == 1
    assert "snapshot polic" in refused(400, "INVALID_ARGUMENT", dk.quota, "snapshot_policy")
    assert "type" in refused(400, "INVALID_ARGUMENT", dk.quota, "pod")
    # The pod service's /quotas is its own, told apart by the credential scope.
    assert fake_server.jd().call("describeQuota", "pod")["quota"]["resourceType"] == "pod"
    set_quota(fake_server, fake_server.admin, "disk", 4)
    assert "disk quota exceeded" in refused(429, "QUOTA_EXCEEDED", dk.create_disks, 3)
    assert dk.quota("disk") == {"limit": 4, "used": 2}  # all or none
    dk.create_disks(2)
    set_quota(fake_server, fake_server.admin, "snapshot", 1)
    assert "snapshot quota" in refused(429, "QUOTA_EXCEEDED", dk.create_snapshot, ids[1])
    # A pod's new disks count too; attaching an existing one does not.
    set_quota(fake_server, fake_server.admin, "disk", 5)
    jd = fake_server.jd()
    assert "disk quota" in refused(429, "QUOTA_EXCEEDED", pod_with, jd, "two", [volume("a"), volume("b")])
    pod_with(jd, "one", [volume("a"), volume("b", volumeId=ids[1])])
    assert dk.quota("disk")["used"] == 5 and jd.pods()["totalCount"] == 1


def test_overcommit_of_the_host(fake_server, monkeypatch) -> None:
    ctx = fake_server.app.ctx
    monkeypatch.setattr(ctx, "disk_capacity", lambda: 100 * GB)
    assert ctx.disk_overcommit == 4.0  # the default: 400 GB may be promised
    dk = client(fake_server)
    other = client(fake_server, fake_server.new_account("other"))
    hundreds = dk.create_disks(2, 100)
    other.create_disks(1, 150, "hdd.std1")
    message = refused(400, "FAILED_PRECONDITION", dk.create_disks, 1, 60)
    assert "diskSpec.diskSizeGB" in message and "350 GB are promised" in message and "400 GB" in message
    jd = fake_server.jd()
    assert "podSpec.volumes" in refused(400, "FAILED_PRECONDITION", pod_with, jd, "big", [volume(sizeGB=60)])
    assert jd.pods()["totalCount"] == 0
    dk.create_disks(1, 50)
    assert count_disks(dk) == 3 and count_disks(other) == 1
    # Deleting gives the room back.
    dk.delete_disk(hundreds[0])
    pod_with(jd, "fits", [volume(sizeGB=100, diskType="hdd.std1")])
    monkeypatch.setattr(ctx, "disk_overcommit", 1.0)
    assert "1 × the 100 GB" in refused(400, "FAILED_PRECONDITION", dk.create_disks, 1, 20)


def test_concurrent_creates_keep_to_quota_and_room(fake_server, monkeypatch) -> None:
    ctx = fake_server.app.ctx
    set_quota(fake_server, fake_server.admin, "disk", 5)
    outcomes: list[str] = []

    def race(make: Callable[[], Any], n: int) -> None:
        def one() -> None:
            try:
                make()
                outcomes.append("ok")
            except JdError as e:
                outcomes.append(e.status)

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    dk = client(fake_server)
    race(lambda: client(fake_server).create_disks(1), 10)
    assert outcomes.count("ok") == 5 and outcomes.count("QUOTA_EXCEEDED") == 5
    assert count_disks(dk) == 5
    # The room is shared by all accounts: 300 GB more fit, in 100 GB disks of two accounts.
    monkeypatch.setattr(ctx, "disk_capacity", lambda: 100 * GB)
    outcomes.clear()
    a, b = fake_server.new_account("a"), fake_server.new_account("b")
    race(lambda: client(fake_server, a).create_disks(1, 100), 4)
    race(lambda: client(fake_server, b).create_disks(1, 100), 4)
    assert outcomes.count("ok") == 3 and outcomes.count("FAILED_PRECONDITION") == 5
    assert count_disks(client(fake_server, a)) + count_disks(client(fake_server, b)) == 3


# (case, what to send: (action, parameters) through the disk client, HTTP code, text of the message)
SPEC = {"az": AZ, "name": "d", "diskType": "ssd.gp1", "diskSizeGB": 20}


def create(spec: dict[str, Any] | None = None, **top: Any) -> tuple[str, dict[str, Any]]:
    return "createDisks", {"diskSpec": {**SPEC, **(spec or {})}, "maxCount": 1, "clientToken": "t", **top}


DISK_CASES: list[tuple[str, tuple[str, dict[str, Any]], int, str]] = [
    ("maxCount zero", create(maxCount=0), 400, "maxCount"),
    ("maxCount 101", create(maxCount=101), 400, "maxCount"),
    ("maxCount string", create(maxCount="2"), 400, "maxCount"),
    ("clientToken missing", create(clientToken=None), 400, "clientToken"),
    ("clientToken 65", create(clientToken="t" * 65), 400, "clientToken"),
    ("clientToken not ASCII", create(clientToken="令牌"), 400, "clientToken"),
    ("az unknown", create({"az": "cn-east-2a"}), 400, "diskSpec.az"),
    ("az missing", create({"az": None}), 400, "diskSpec.az"),
    ("name missing", create({"name": None}), 400, "diskSpec.name"),
    ("name empty", create({"name": ""}), 400, "diskSpec.name"),
    ("name with a space", create({"name": "my disk"}), 400, "diskSpec.name"),
    ("name 33 characters", create({"name": "d" * 33}), 400, "diskSpec.name"),
    ("names of a batch past 32", create({"name": "d" * 30}, maxCount=10), 400, "diskSpec.name"),
    ("description 257", create({"description": "x" * 257}), 400, "diskSpec.description"),
    ("diskType unknown", create({"diskType": "ssd.io2"}), 400, "diskSpec.diskType"),
    ("diskType upper case", create({"diskType": "SSD"}), 400, "diskSpec.diskType"),
    ("size missing", create({"diskSizeGB": None}), 400, "diskSpec.diskSizeGB"),
    ("size a string", create({"diskSizeGB": "20"}), 400, "diskSpec.diskSizeGB"),
    ("ssd below 20", create({"diskType": "ssd", "diskSizeGB": 10}), 400, "diskSpec.diskSizeGB"),
    ("ssd above 1000", create({"diskType": "ssd", "diskSizeGB": 1010}), 400, "diskSpec.diskSizeGB"),
    ("premium-hdd above 3000", create({"diskType": "premium-hdd", "diskSizeGB": 3010}), 400, "diskSizeGB"),
    ("hdd.std1 above 16000", create({"diskType": "hdd.std1", "diskSizeGB": 16010}), 400, "diskSizeGB"),
    ("ssd.io1 above 16000", create({"diskType": "ssd.io1", "diskSizeGB": 16010}), 400, "diskSizeGB"),
    ("size off its step", create({"diskSizeGB": 25}), 400, "steps of 10"),
    ("iops on ssd.gp1", create({"iops": 100}), 400, "diskSpec.iops"),
    ("iops off its step", create({"diskType": "ssd.io1", "iops": 105}), 400, "diskSpec.iops"),
    ("iops past 50 per GB", create({"diskType": "ssd.io1", "iops": 1010}), 400, "diskSpec.iops"),
    ("iops zero", create({"diskType": "ssd.io1", "iops": 0}), 400, "diskSpec.iops"),
    ("multiAttachable", create({"multiAttachable": True}), 400, "multiAttachable"),
    ("encrypt", create({"encrypt": True}), 400, "encrypt"),
    ("policyId", create({"policyId": "policy-1"}), 400, "policyId"),
    ("prepaid", create({"charge": {"chargeMode": "prepaid_by_duration"}}), 400, "chargeMode"),
    ("by usage", create({"charge": {"chargeMode": "postpaid_by_usage"}}), 400, "chargeMode"),
    ("charge unit", create({"charge": {"chargeUnit": "month"}}), 400, "chargeUnit"),
    ("charge mode unknown", create({"charge": {"chargeMode": "free"}}), 400, "chargeMode"),
    ("eleven tags", create(userTags=[{"key": f"k{i}", "value": "v"} for i in range(11)]), 400, "userTags"),
    ("a tag key twice", create(userTags=[{"key": "k", "value": "a"}, {"key": "k", "value": "b"}]), 400, "userTags"),
    ("resourceGroupId", create(resourceGroupId="rg-1"), 400, "resourceGroupId"),
    ("unknown field", create({"shiny": True}), 400, "shiny"),
    ("snapshot unknown", create({"snapshotId": "snapshot-nope"}), 404, "diskSpec.snapshotId"),
    (
        "snapshot name bad",
        ("createSnapshot", {"snapshotSpec": {"name": "a b", "diskId": "vol-x"}, "clientToken": "t"}),
        400,
        "snapshotSpec.name",
    ),
    (
        "snapshot name missing",
        ("createSnapshot", {"snapshotSpec": {"diskId": "vol-x"}, "clientToken": "t"}),
        400,
        "snapshotSpec.name",
    ),
    (
        "snapshot of no disk",
        ("createSnapshot", {"snapshotSpec": {"name": "s", "diskId": "vol-x"}, "clientToken": "t"}),
        404,
        "snapshotSpec.diskId",
    ),
    (
        "snapshot without token",
        ("createSnapshot", {"snapshotSpec": {"name": "s", "diskId": "vol-x"}}),
        400,
        "clientToken",
    ),
    ("pageSize 5", ("describeDisks", {"pageSize": 5}), 400, "pageSize"),
    ("pageSize 101", ("describeDisks", {"pageSize": 101}), 400, "pageSize"),
    ("pageNumber 0", ("describeDisks", {"pageNumber": 0}), 400, "pageNumber"),
    ("pageNumber past 2^31", ("describeDisks", {"pageNumber": 2**31}), 400, "pageNumber"),
    ("orders", ("describeDisks", {"orders": [{"name": "create_time", "direction": "desc"}]}), 400, "orders"),
    ("snapshot source", ("describeSnapshots", {"snapshotSource": "mine"}), 400, "snapshotSource"),
    ("snapshot pageSize", ("describeSnapshots", {"pageSize": 9}), 400, "pageSize"),
    ("quota type missing", ("describeQuota", {}), 400, "type"),
    ("quota type unknown", ("describeQuota", {"type": "volume"}), 400, "type"),
    ("recycle bin", ("deleteDisk", {"diskId": "vol-x", "putInRecycleBin": True}), 400, "putInRecycleBin"),
    ("describe no disk", ("describeDisk", {"diskId": "vol-nope"}), 404, "diskId"),
]


@pytest.mark.parametrize(("sent", "code", "text"), [c[1:] for c in DISK_CASES], ids=[c[0] for c in DISK_CASES])
def test_bad_disk_input(fake_server, sent: tuple[str, dict[str, Any]], code: int, text: str) -> None:
    dk = client(fake_server)
    [kept] = dk.create_disks()
    action, params = sent
    with pytest.raises(JdError) as e:
        dk.raw(action, params)
    assert (e.value.code, text in e.value.message) == (code, True), e.value
    assert [d["diskId"] for d in dk.disks()["disks"]] == [kept] and dk.snapshots()["totalCount"] == 0
    assert dk.disk(kept)["status"] == "available"


VOL = "podSpec__volumes"
MOUNTS = "podSpec__containers__0__volumeMounts"


def vols(*jd_disks: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": f"v{i}", "jdcloudDisk": d} for i, d in enumerate(jd_disks)]


NEW = {"diskType": "ssd.gp1", "sizeGB": 20}
POD_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("eight volumes", {VOL: vols(*[NEW] * 8)}, 400, "podSpec.volumes"),
    ("volume names repeat", {VOL: [{"name": "v", "jdcloudDisk": NEW}] * 2}, 400, "used more than once"),
    ("volume name not a label", {VOL: [{"name": "Data_1", "jdcloudDisk": NEW}]}, 400, "volumes[0].name"),
    ("volume without a disk", {VOL: [{"name": "v"}]}, 400, "volumes[0].jdcloudDisk"),
    ("new disk without type", {VOL: vols({"sizeGB": 20})}, 400, "jdcloudDisk.diskType"),
    ("new disk without size", {VOL: vols({"diskType": "ssd.gp1"})}, 400, "jdcloudDisk.sizeGB"),
    ("disk type unknown", {VOL: vols({**NEW, "diskType": "nvme"})}, 400, "jdcloudDisk.diskType"),
    ("hdd.std1 above 4000", {VOL: vols({"diskType": "hdd.std1", "sizeGB": 4010})}, 400, "jdcloudDisk.sizeGB"),
    ("ssd.gp1 below 20", {VOL: vols({"diskType": "ssd.gp1", "sizeGB": 10})}, 400, "jdcloudDisk.sizeGB"),
    ("ssd above 1000", {VOL: vols({"diskType": "ssd", "sizeGB": 1010})}, 400, "jdcloudDisk.sizeGB"),
    ("premium-hdd above 3000", {VOL: vols({"diskType": "premium-hdd", "sizeGB": 3010})}, 400, "sizeGB"),
    ("size off its step", {VOL: vols({**NEW, "sizeGB": 35})}, 400, "steps of 10"),
    ("iops on ssd.gp1", {VOL: vols({**NEW, "iops": 100})}, 400, "jdcloudDisk.iops"),
    ("iops off its step", {VOL: vols({"diskType": "ssd.io1", "sizeGB": 20, "iops": 15})}, 400, "jdcloudDisk.iops"),
    ("iops past 50 per GB", {VOL: vols({"diskType": "ssd.io1", "sizeGB": 20, "iops": 1010})}, 400, "iops"),
    ("fsType unknown", {VOL: vols({**NEW, "fsType": "btrfs"})}, 400, "jdcloudDisk.fsType"),
    ("formatVolume not a flag", {VOL: vols({**NEW, "formatVolume": "yes"})}, 400, "formatVolume"),
    ("autoDelete a number", {VOL: vols({**NEW, "autoDelete": 1})}, 400, "autoDelete"),
    ("disk name bad", {VOL: vols({**NEW, "name": "a/b"})}, 400, "jdcloudDisk.name"),
    ("multiAttachable", {VOL: vols({**NEW, "multiAttachable": True})}, 400, "multiAttachable"),
    ("cfs volume", {VOL: [{"name": "v", "jdcloudDisk": NEW, "cfs": {"id": "x"}}]}, 400, "cfs"),
    ("existing disk unknown", {VOL: vols({"volumeId": "vol-nope"})}, 404, "volumes[0].jdcloudDisk.volumeId"),
    ("snapshot unknown", {VOL: vols({"snapshotId": "snapshot-no", "diskType": "ssd.gp1"})}, 404, "snapshotId"),
    ("existing disk with a size", {VOL: vols({"volumeId": "vol-x", "sizeGB": 20})}, 400, "jdcloudDisk.sizeGB"),
    ("existing disk, two pods", {VOL: vols({"volumeId": "vol-x"}), "maxCount": 2}, 400, "maxCount"),
    ("one disk, two volumes", {VOL: vols({"volumeId": "vol-x"}, {"volumeId": "vol-x"})}, 400, "two volumes"),
    ("mount of no volume", {VOL: vols(NEW), MOUNTS: [{"name": "v9", "mountPath": "/d"}]}, 400, "does not define"),
    ("mount path relative", {VOL: vols(NEW), MOUNTS: [{"name": "v0", "mountPath": "d"}]}, 400, "mountPath"),
    ("mount at /", {VOL: vols(NEW), MOUNTS: [{"name": "v0", "mountPath": "/"}]}, 400, "root"),
    ("mount path 1025", {VOL: vols(NEW), MOUNTS: [{"name": "v0", "mountPath": "/" + "a" * 1024}]}, 400, "mountPath"),
    ("mount path missing", {VOL: vols(NEW), MOUNTS: [{"name": "v0"}]}, 400, "mountPath"),
    (
        "mount paths repeat",
        {VOL: vols(NEW, NEW), MOUNTS: [{"name": "v0", "mountPath": "/d"}, {"name": "v1", "mountPath": "/d/"}]},
        400,
        "repeat or nest",
    ),
    (
        "mount paths nest",
        {VOL: vols(NEW, NEW), MOUNTS: [{"name": "v0", "mountPath": "/d"}, {"name": "v1", "mountPath": "/d/e"}]},
        400,
        "repeat or nest",
    ),
    (
        "readOnly not a flag",
        {VOL: vols(NEW), MOUNTS: [{"name": "v0", "mountPath": "/d", "readOnly": "ro"}]},
        400,
        "readOnly",
    ),
]


@pytest.mark.parametrize(("changes", "code", "text"), [c[1:] for c in POD_CASES], ids=[c[0] for c in POD_CASES])
def test_bad_volume_input(fake_server, changes: dict[str, Any], code: int, text: str) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    [kept] = dk.create_disks()
    with pytest.raises(JdError) as e:
        jd.raw("createPods", body(jd, **changes))
    assert (e.value.code, text in e.value.message) == (code, True), e.value
    assert jd.pods()["totalCount"] == 0 and [d["diskId"] for d in dk.disks()["disks"]] == [kept]
    assert dk.disk(kept)["status"] == "available" and dk.quota("disk")["used"] == 1


def test_at_least_sixty_bad_input_cases() -> None:
    assert len(DISK_CASES) + len(POD_CASES) >= 60


def test_the_unserved_actions_answer_501(fake_server) -> None:
    dk = client(fake_server)
    [disk_id] = dk.create_disks()
    for action, args in (
        ("modifyDiskAttribute", (disk_id,)),
        ("extendDisk", (disk_id, 30)),
        ("restoreDisk", (disk_id, "snapshot-x")),
        ("describeSnapshotChain", ()),
        ("describeSnapshotsCapacity", ()),
    ):
        with pytest.raises(JdError) as e:
            dk.call(action, *args)
        assert e.value.code == 501, action
    assert dk.disk(disk_id)["diskSizeGB"] == 20


def test_without_a_disk_part_nothing_makes_disks(fake_server, monkeypatch) -> None:
    monkeypatch.setattr(fake_server.app.ctx, "disk_maker", None)
    dk, jd = client(fake_server), fake_server.jd()
    assert "createDisks" in refused(501, "NOT_IMPLEMENTED", dk.create_disks)
    assert "volumes" in refused(501, "NOT_IMPLEMENTED", pod_with, jd, "p", [volume()])
    assert count_disks(dk) == 0 and jd.pods()["totalCount"] == 0
    pod_with(jd, "plain", [])  # a pod without volumes is made as ever


# -- tenancy --


def test_another_accounts_disks_and_snapshots_are_invisible(fake_server) -> None:
    mine, theirs = client(fake_server), client(fake_server, fake_server.new_account("other"))
    [disk_id] = theirs.create_disks()
    snap = theirs.create_snapshot(disk_id)
    assert "diskId" in refused(404, "NOT_FOUND", mine.disk, disk_id)
    assert "diskId" in refused(404, "NOT_FOUND", mine.delete_disk, disk_id)
    assert "snapshotId" in refused(404, "NOT_FOUND", mine.snapshot, snap)
    assert "snapshotId" in refused(404, "NOT_FOUND", mine.delete_snapshot, snap)
    assert "snapshotSpec.diskId" in refused(404, "NOT_FOUND", mine.create_snapshot, disk_id)
    assert "diskSpec.snapshotId" in refused(404, "NOT_FOUND", mine.create_disks, snapshotId=snap)
    assert mine.disks(filters=[Filter("diskId", [disk_id])])["totalCount"] == 0
    assert mine.snapshots(filters=[Filter("snapshotId", [snap])])["totalCount"] == 0
    assert mine.disks()["totalCount"] == 0 and mine.snapshots()["totalCount"] == 0
    jd = fake_server.jd()
    message = refused(404, "NOT_FOUND", pod_with, jd, "p", [volume(volumeId=disk_id)])
    assert "podSpec.volumes[0].jdcloudDisk.volumeId" in message
    message = refused(404, "NOT_FOUND", pod_with, jd, "p", [volume(snapshotId=snap, diskType="ssd.gp1")])
    assert "podSpec.volumes[0].jdcloudDisk.snapshotId" in message
    assert mine.quota("disk")["used"] == 0 and theirs.quota("disk")["used"] == 1
    assert theirs.disk(disk_id)["status"] == "available" and theirs.snapshot(snap)["status"] == "available"


# -- pods and their disks --


def test_a_pod_with_new_disks(fake_server) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    mounts = [VolumeMountSpec("data", "/data"), VolumeMountSpec("logs", "/var/log/app", readOnly=True)]
    [pod_id] = pod_with(
        jd,
        "db",
        [volume("data", fsType="ext4", diskType="ssd.io1", sizeGB=100), volume("logs", diskType="hdd.std1", sizeGB=40)],
        mounts,
    )
    pod = jd.pod(pod_id)
    data, logs = pod["volumes"]
    assert set(data) == fields(Volume) and set(data["jdcloudDisk"]) == fields(JDCloudVolumeSource)
    assert DISK_ID.match(data["jdcloudDisk"]["volumeId"]) and DISK_ID.match(logs["jdcloudDisk"]["volumeId"])
    assert data["jdcloudDisk"] == {
        "volumeId": data["jdcloudDisk"]["volumeId"],
        "snapshotId": None,
        "diskType": "ssd.io1",
        "sizeGB": 100,
        "fsType": "ext4",
        "formatVolume": False,
        "iops": 3000,
        "autoDelete": True,  # the docs' default
    }
    assert logs["jdcloudDisk"]["fsType"] == "xfs"  # the default
    shown_mounts = pod["containers"][0]["volumeMounts"]
    assert all(set(m) == fields(VolumeMount) for m in shown_mounts)
    assert [(m["name"], m["mountPath"], m["readOnly"]) for m in shown_mounts] == [
        ("data", "/data", False),
        ("logs", "/var/log/app", True),
    ]
    disk = dk.disk(data["jdcloudDisk"]["volumeId"])
    assert disk["status"] == "in-use" and disk["name"] == "data" and disk["diskSizeGB"] == 100
    [attachment] = disk["attachments"]
    assert set(attachment) == fields(DiskAttachment)
    assert attachment == {**attachment, "diskId": disk["diskId"], "instanceType": "pod", "instanceId": pod_id}
    assert attachment["status"] == "attached" and attachment["attachTime"] == disk["createTime"]
    message = refused(400, "FAILED_PRECONDITION", dk.delete_disk, disk["diskId"])
    assert pod_id in message
    assert dk.quota("disk")["used"] == 2
    # A snapshot of an in-use disk is allowed.
    dk.create_snapshot(disk["diskId"])
    delete_pod(fake_server, jd, pod_id)
    assert count_disks(dk) == 0 and dk.snapshots()["totalCount"] == 1  # autoDelete: gone with the pod


def test_a_pod_on_an_existing_disk_leaves_it_available(fake_server) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    [disk_id] = dk.create_disks(size=50, name="keep")
    [pod_id] = pod_with(jd, "app", [volume(volumeId=disk_id)], [VolumeMountSpec("data", "/srv")])
    shown = jd.pod(pod_id)["volumes"][0]["jdcloudDisk"]
    assert shown == {
        "volumeId": disk_id,
        "snapshotId": None,
        "diskType": "ssd.gp1",
        "sizeGB": 50,
        "fsType": "xfs",  # what a disk of the disk service holds
        "formatVolume": False,
        "iops": None,
        "autoDelete": False,  # an existing disk outlives its pod unless asked
    }
    assert dk.disk(disk_id)["status"] == "in-use" and dk.disk(disk_id)["attachments"][0]["instanceId"] == pod_id
    message = refused(400, "FAILED_PRECONDITION", pod_with, jd, "thief", [volume(volumeId=disk_id)])
    assert pod_id in message and "volumes[0].jdcloudDisk.volumeId" in message
    assert pod_id in refused(400, "FAILED_PRECONDITION", dk.delete_disk, disk_id)
    delete_pod(fake_server, jd, pod_id)
    disk = dk.disk(disk_id)
    assert (disk["status"], disk["attachments"]) == ("available", [])
    # Mounted as it is unless formatVolume: a different fsType asks for a new filesystem.
    message = refused(400, "INVALID_ARGUMENT", pod_with, jd, "ext", [volume(volumeId=disk_id, fsType="ext4")])
    assert "jdcloudDisk.fsType" in message and "formatVolume" in message
    [again] = pod_with(jd, "ext", [volume(volumeId=disk_id, fsType="ext4", formatVolume=True, autoDelete=True)])
    assert jd.pod(again)["volumes"][0]["jdcloudDisk"]["formatVolume"] is True
    delete_pod(fake_server, jd, again)
    assert "diskId" in refused(404, "NOT_FOUND", dk.disk, disk_id)  # autoDelete asked: gone with it


def test_a_pod_on_a_disk_from_a_snapshot(fake_server) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    [source] = dk.create_disks(size=60)
    snap = dk.create_snapshot(source)
    message = refused(
        400, "INVALID_ARGUMENT", pod_with, jd, "s", [volume(snapshotId=snap, diskType="ssd.gp1", sizeGB=50)]
    )
    assert "jdcloudDisk.sizeGB" in message and "60 GB" in message
    assert "fsType" in refused(
        400, "INVALID_ARGUMENT", pod_with, jd, "s", [volume(snapshotId=snap, diskType="ssd.gp1", fsType="ext4")]
    )
    [a, b] = pod_with(jd, "s", [volume(snapshotId=snap, diskType="hdd.std1")], count=2)
    for pod_id in (a, b):
        shown = jd.pod(pod_id)["volumes"][0]["jdcloudDisk"]
        assert (shown["snapshotId"], shown["sizeGB"], shown["fsType"], shown["autoDelete"]) == (snap, 60, "xfs", True)
        assert dk.disk(shown["volumeId"])["snapshotId"] == snap
    assert count_disks(dk) == 3  # each pod its own disk


def test_a_failing_create_leaves_no_disk_behind(fake_server) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    [disk_id] = dk.create_disks()
    jd.create_pods(pod_spec(jd.account, "web2", [container()]))
    # web1, web2, web3: web2 is taken (checked after the volumes): nothing of the batch stays.
    batch = pod_spec(jd.account, "web", [container()], volumes=[volume("a")])
    assert "web2" in refused(409, "ALREADY_EXISTS", jd.create_pods, batch, 3)
    assert count_disks(dk) == 1
    taken = pod_spec(jd.account, "web2", [container()], volumes=[volume("a"), volume("b", volumeId=disk_id)])
    refused(409, "ALREADY_EXISTS", jd.create_pods, taken)
    assert count_disks(dk) == 1 and dk.disk(disk_id)["status"] == "available"
    set_quota(fake_server, fake_server.admin, "pod", 3)
    refused(429, "QUOTA_EXCEEDED", pod_with, jd, "many", [volume()], count=3)
    assert count_disks(dk) == 1 and jd.pods()["totalCount"] == 1
    assert dk.quota("disk")["used"] == 1


def test_a_retried_create_makes_no_second_disk(fake_server) -> None:
    jd, dk = fake_server.jd(), client(fake_server)
    spec = pod_spec(jd.account, "tok", [container()], volumes=[volume("data")])
    first = jd.create_pods(spec, 2, client_token="same")
    assert jd.create_pods(spec, 2, client_token="same") == first
    assert count_disks(dk) == 2 and dk.quota("disk")["used"] == 2
    assert {d["attachments"][0]["instanceId"] for d in dk.disks()["disks"]} == set(first)


def test_rebuild_keeps_the_volumes(fake_server) -> None:
    jd = fake_server.jd()
    [pod_id] = pod_with(jd, "rb", [volume("data")], [VolumeMountSpec("data", "/data")])
    before = jd.pod(pod_id)["volumes"]
    fake_server.settle()
    jd.call("stopPod", pod_id)
    fake_server.settle()
    mounts = [VolumeMountSpec("data", "/new", readOnly=True)]
    jd.call("rebuildPod", pod_id, [RebuildContainerSpec("app", "busybox:1.36", volumeMounts=mounts)])
    fake_server.settle()
    pod = jd.pod(pod_id)
    assert pod["volumes"] == before
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "data", "mountPath": "/new", "readOnly": True, "subPath": None}
    ]
    assert "no volume" in refused(
        400, "INVALID_ARGUMENT", jd.call, "rebuildPod", pod_id,
        [RebuildContainerSpec("app", "busybox", volumeMounts=[VolumeMountSpec("other", "/o")])],
    )  # fmt: skip


# -- the control side: the store calls control/ makes, driven by hand --


def test_disks_wait_on_control_when_it_makes_them(fake_server, monkeypatch) -> None:
    monkeypatch.setattr(fake_server.app.ctx, "disk_maker", "control")
    db = fake_server.app.ctx.db
    jd, dk = fake_server.jd(), client(fake_server)
    [disk_id] = dk.create_disks()
    assert dk.disk(disk_id)["status"] == "creating"
    assert "creating" in refused(400, "FAILED_PRECONDITION", dk.create_snapshot, disk_id)
    [pod_id] = pod_with(jd, "c", [volume("data")])
    new_id = jd.pod(pod_id)["volumes"][0]["jdcloudDisk"]["volumeId"]
    new = dk.disk(new_id)
    assert new["status"] == "creating" and new["attachments"][0]["status"] == "attaching"
    with db.write() as s:
        assert {d.disk_id for d in disk_store.to_make(s)} == {disk_id, new_id}
        assert [d.volume_name for d in disk_store.of_pod(s, pod_id)] == ["data"]
        assert disk_store.made(s, disk_id) and disk_store.made(s, new_id)
        assert not disk_store.made(s, disk_id)  # made once
    assert dk.disk(disk_id)["status"] == "available"
    assert dk.disk(new_id)["status"] == "in-use" and dk.disk(new_id)["attachments"][0]["status"] == "attached"
    snap = dk.create_snapshot(disk_id)
    assert dk.snapshot(snap)["status"] == "creating"
    with db.write() as s:
        assert [x.snapshot_id for x in snapshot_store.to_take(s)] == [snap]
        snapshot_store.taken(s, snap)
    dk.delete_disk(disk_id)
    dk.delete_snapshot(snap)
    assert dk.disk(disk_id)["status"] == "deleting" and dk.snapshot(snap)["status"] == "deleting"
    assert "deleting" in refused(400, "FAILED_PRECONDITION", dk.delete_disk, disk_id)
    wait_for(lambda: jd.pod(pod_id)["podStatus"]["phase"] == "running", 10, "the pod running")
    jd.call("deletePod", pod_id)
    assert dk.disk(new_id)["status"] == "deleting"  # autoDelete: with the pod
    fake_server.settle()
    wait_for(lambda: gone(jd, pod_id), 10, "the pod gone")
    with db.write() as s:
        assert {d.disk_id for d in disk_store.to_remove(s)} == {disk_id, new_id}  # the pod let go of its disk
        disk_store.removed(s, disk_id)
        disk_store.failed(s, new_id)
        assert [x.snapshot_id for x in snapshot_store.to_remove(s)] == [snap]
        snapshot_store.removed(s, snap)
    assert "diskId" in refused(404, "NOT_FOUND", dk.disk, disk_id)
    assert dk.disk(new_id)["status"] == "error_delete" and dk.snapshots()["totalCount"] == 0
    dk.delete_disk(new_id)  # a retry
    assert dk.disk(new_id)["status"] == "deleting"


def test_format_volume_is_left_to_control(fake_server, monkeypatch) -> None:
    monkeypatch.setattr(fake_server.app.ctx, "disk_maker", "control")
    db = fake_server.app.ctx.db
    jd, dk = fake_server.jd(), client(fake_server)
    [disk_id] = dk.create_disks()
    with db.write() as s:
        disk_store.made(s, disk_id)
        assert disk_store.to_format(s) == []
    [pod_id] = pod_with(jd, "f", [volume(volumeId=disk_id, fsType="ext4", formatVolume=True)])
    with db.write() as s:
        [d] = disk_store.to_format(s)
        assert (d.disk_id, d.fs_type, d.pod_id, d.volume_name) == (disk_id, "ext4", pod_id, "data")
        disk_store.formatted(s, disk_id)
        assert disk_store.to_format(s) == []


def test_account_standing(fake_server) -> None:
    dk = client(fake_server)
    [disk_id] = dk.create_disks()
    accounts.set_standing(fake_server.app.ctx, "admin", verified=False)
    assert "real-name" in refused(403, "HTTP_FORBIDDEN", dk.create_disks)
    accounts.set_standing(fake_server.app.ctx, "admin", verified=True, in_arrears=True)
    assert "arrears" in refused(403, "HTTP_FORBIDDEN", dk.create_snapshot, disk_id)
    dk.delete_disk(disk_id)  # releasing stops a charge: allowed in arrears
    assert count_disks(dk) == 0
