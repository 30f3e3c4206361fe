"""The reconciler against the fake runtime: the pod lifecycle, restart policies with
back-off, and repair after crashes (leftovers, vanished containers, half-made pods)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from podyard.control.clock import ManualClock
from podyard.control.reconciler import Reconciler, ReconcilerSettings
from podyard.domain.records import AccountRecord, NetworkRecord, PodRecord
from podyard.domain.regions import region_with_default_azs
from podyard.domain.specs.actions import CreatePodsRequest, RebuildPodRequest
from podyard.domain.specs.wire import parse_body
from podyard.runtime.fake import FakeRuntime
from podyard.runtime.protocol import PodRun, RuntimeFailure
from podyard.services import accounts, pods
from podyard.services.context import ServiceContext
from podyard.store.crypto import SecretBox
from podyard.store.db import Database
from podyard.store.observed import ObservedStore


class World:
    def __init__(self, tmp: Path, db_url: str) -> None:
        self.db = Database(db_url)
        self.db.migrate()
        self.ctx = ServiceContext(
            self.db,
            SecretBox(AESGCM.generate_key(bit_length=256)),
            region_with_default_azs("cn-north-1"),
            {"pod": 50, "container": 100, "secret": 5},
            "10.250.0.0/16",
            24,
        )
        self.account, self.net = accounts.create_account(self.ctx, "t")
        self.runtime = FakeRuntime(tmp / "logs")
        self.clock = ManualClock()
        self.rec = Reconciler(
            ObservedStore(self.db, self.ctx.secret_box),
            self.runtime,
            ReconcilerSettings(backoff_initial=1.0, backoff_cap=4.0),
            self.clock,
        )

    def create(
        self,
        name: str = "p",
        restart: str = "Always",
        command: list[str] | None = None,
        count: int = 1,
        image: str = "busybox",
    ) -> list[str]:
        body = body_for(self.account, self.net, name, restart, command or ["sleep", "1"], count, image)
        return pods.create_pods(self.ctx, self.account, "cn-north-1", parse_body(CreatePodsRequest, body))

    def pod(self, pod_id: str) -> PodRecord:
        return pods.describe_pod(self.ctx, self.account, "cn-north-1", pod_id)

    def state(self, pod_id: str, i: int = 0) -> Any:
        return self.pod(pod_id).containers[i].status

    def run(self, coro: Any) -> Any:
        return asyncio.run(coro)


def body_for(
    account: AccountRecord, net: NetworkRecord, name: str, restart: str, command: list[str], count: int, image: str
) -> dict[str, Any]:
    return {
        "podSpec": {
            "name": name,
            "instanceType": "g.s1.micro",
            "az": "cn-north-1a",
            "restartPolicy": restart,
            "containers": [{"name": "app", "image": image, "command": command, "systemDisk": {"category": "local"}}],
            "primaryNetworkInterface": {
                "networkInterface": {"subnetId": net.subnet_id, "securityGroups": [net.security_group_id]}
            },
        },
        "maxCount": count,
    }


@pytest.fixture
def w(tmp_path: Path, db_url: str) -> Iterator[World]:
    world = World(tmp_path, db_url)
    yield world
    world.db.close()


async def settle(w: World, pod_id: str, passes: int = 1) -> None:
    for _ in range(passes):
        await w.rec.reconcile(pod_id)


def test_create_runs_with_the_instance_limits(w: World) -> None:
    [pod_id] = w.create()
    assert w.pod(pod_id).phase == "pending"

    async def go() -> PodRun:
        await settle(w, pod_id)
        return w.runtime.pods[pod_id].run

    run = w.run(go())
    pod = w.pod(pod_id)
    assert pod.phase == "running" and pod.start_time is not None
    assert pod.conditions[0].status == "True"
    assert w.state(pod_id).state.kind == "running"
    assert run.memory_bytes == 1024 * 1024 * 1024 and run.cpu_millis == 1000
    assert run.containers[0].memory_bytes == run.memory_bytes
    assert run.ip == pod.ip and run.hostname == pod_id


def test_always_restarts_with_backoff(w: World) -> None:
    [pod_id] = w.create(restart="Always")

    async def go() -> None:
        await settle(w, pod_id)
        w.runtime.exit_container(pod_id, "app", 0)
        await settle(w, pod_id)
        s = w.state(pod_id)
        assert s.state.reason == "CrashLoopBackOff" and s.last_state.exit_code == 0 and s.restart_count == 0
        assert w.pod(pod_id).phase == "running"
        await w.clock.advance(1.01)
        await settle(w, pod_id)
        s = w.state(pod_id)
        assert s.state.kind == "running" and s.restart_count == 1 and s.last_state.kind == "terminated"
        # A second crash waits twice as long: not restarted after the first delay.
        w.runtime.exit_container(pod_id, "app", 2)
        await settle(w, pod_id)
        await w.clock.advance(1.01)
        await settle(w, pod_id)
        assert w.state(pod_id).state.reason == "CrashLoopBackOff"
        await w.clock.advance(1.01)
        await settle(w, pod_id)
        assert w.state(pod_id).restart_count == 2

    w.run(go())


def test_on_failure_and_never(w: World) -> None:
    ok, failing = w.create("ok", restart="OnFailure"), w.create("bad", restart="OnFailure")
    never = w.create("never", restart="Never")

    async def go() -> None:
        for p in (*ok, *failing, *never):
            await settle(w, p)
        w.runtime.exit_container(ok[0], "app", 0)
        w.runtime.exit_container(failing[0], "app", 1)
        w.runtime.exit_container(never[0], "app", 3)
        for p in (*ok, *failing, *never):
            await settle(w, p)
        await w.clock.advance(1.01)
        await settle(w, failing[0])

    w.run(go())
    done = w.pod(ok[0])
    assert (done.phase, done.reason, done.desired) == ("stopped", "Succeeded", "stopped")
    assert w.state(failing[0]).restart_count == 1 and w.state(failing[0]).state.kind == "running"
    failed = w.pod(never[0])
    assert (failed.phase, failed.reason) == ("stopped", "Failed")
    assert "exit code 3" in (failed.message or "")
    assert w.state(never[0]).state.exit_code == 3 and w.state(never[0]).restart_count == 0


def test_stop_start_delete_frees_the_address(w: World) -> None:
    [pod_id] = w.create()

    async def go() -> None:
        await settle(w, pod_id)
        pods.stop_pod(w.ctx, w.account, "cn-north-1", pod_id)
        assert w.pod(pod_id).phase == "stopping"
        await settle(w, pod_id)
        assert w.pod(pod_id).phase == "stopped"
        assert w.state(pod_id).state.exit_code == 143
        pods.start_pod(w.ctx, w.account, "cn-north-1", pod_id)
        await settle(w, pod_id)
        assert w.pod(pod_id).phase == "running" and w.state(pod_id).state.kind == "running"
        ip = w.pod(pod_id).ip
        pods.delete_pod(w.ctx, w.account, "cn-north-1", pod_id)
        assert await w.rec.reconcile(pod_id) is False
        assert pod_id not in w.runtime.pods
        [again] = w.create("again")
        assert w.pod(again).ip == ip

    w.run(go())


def test_vanished_pod_is_reported_not_recreated(w: World) -> None:
    [pod_id] = w.create()

    async def go() -> None:
        await settle(w, pod_id)
        await w.runtime.remove_pod(pod_id)
        await settle(w, pod_id)

    w.run(go())
    pod = w.pod(pod_id)
    assert (pod.phase, pod.reason) == ("error", "ContainersMissing")
    assert w.state(pod_id).state.reason == "ContainerMissing"
    assert pod_id not in w.runtime.pods
    pods.delete_pod(w.ctx, w.account, "cn-north-1", pod_id)  # an error pod can be deleted


def test_adopt_removes_leftovers_and_remakes_half_made_pods(w: World) -> None:
    [pod_id] = w.create()

    async def go() -> None:
        # A pod no stored pod owns (a create whose transaction never committed) ...
        orphan = dataclasses.replace(await_run(w, pod_id), pod_id="pod-orphan")
        await w.runtime.create_pod(orphan)
        # ... and a half-made one: created in the runtime, never recorded as made.
        half = dataclasses.replace(await_run(w, pod_id), containers=[])
        await w.runtime.create_pod(half)
        await w.rec.adopt()
        assert "pod-orphan" not in w.runtime.pods
        await settle(w, pod_id)
        assert [c.name for c in w.runtime.pods[pod_id].run.containers] == ["app"]

    w.run(go())
    assert w.pod(pod_id).phase == "running"


def test_adopt_says_once_when_every_stored_pod_has_had_a_pass(w: World, caplog: pytest.LogCaptureFixture) -> None:
    first, second = w.create("a")[0], w.create("b")[0]
    said = "every stored pod has had its first pass since the start"

    async def go() -> None:
        await w.rec.adopt()
        await w.clock.advance(2.5)
        await settle(w, first)
        assert said not in caplog.text  # one pod still waits for its pass
        await settle(w, second)
        await settle(w, first)

    with caplog.at_level("INFO", logger="podyard.control.reconciler"):
        w.run(go())
    assert caplog.text.count(said) == 1 and "2.5 s after adopt began" in caplog.text


def test_after_a_start_running_pods_are_not_inspected_one_by_one(w: World) -> None:
    """adopt's one sweep of the runtime answers each running pod's first pass; a pod with a
    container that is not running is inspected for real (only that tells an OOM kill)."""
    running, ended = w.create("a")[0], w.create("b", restart="Never")[0]
    inspected: list[str] = []
    real = w.runtime.inspect_pod

    async def counting(pod_id: str) -> Any:
        inspected.append(pod_id)
        return await real(pod_id)

    async def go() -> None:
        for pod_id in (running, ended):
            await settle(w, pod_id)
        w.runtime.exit_container(ended, "app", 0)
        await w.rec.adopt()
        w.runtime.inspect_pod = counting  # type: ignore[method-assign]
        await settle(w, running)
        await settle(w, ended)
        assert inspected == [ended]
        await settle(w, running)
        assert inspected == [ended, running]  # a second pass: a real inspect again

    w.run(go())
    assert w.pod(running).phase == "running" and w.pod(ended).phase == "stopped"


def await_run(w: World, pod_id: str) -> PodRun:
    from podyard.control.podrun import pod_run

    return pod_run(w.pod(pod_id), 1024)


def test_image_pull_failure_is_visible_and_retried(w: World) -> None:
    [pod_id] = w.create(image="127.0.0.1:1/unpullable:1")

    async def go() -> None:
        await settle(w, pod_id)
        s = w.state(pod_id)
        assert s.state.reason == "ErrImagePull" and "manifest unknown" in (s.state.message or "")
        await w.clock.advance(1.01)
        await settle(w, pod_id)

    w.run(go())
    pod = w.pod(pod_id)
    assert (pod.phase, pod.reason) == ("pending", "ImagePullBackOff")
    assert w.state(pod_id).state.reason == "ImagePullBackOff"
    assert w.runtime.pulls.count("127.0.0.1:1/unpullable:1") == 2
    assert pod.conditions[0].status == "False"


def test_one_pull_serves_many_pods(w: World) -> None:
    ids = w.create("many", count=5, image="127.0.0.1:1/shared:1")

    async def go() -> None:
        await asyncio.gather(*(w.rec.reconcile(p) for p in ids))

    w.run(go())
    assert w.runtime.pulls.count("127.0.0.1:1/shared:1") == 1
    assert {w.pod(p).phase for p in ids} == {"running"}


def test_rebuild_recreates_and_keeps_the_pod_stopped(w: World) -> None:
    [pod_id] = w.create()

    async def go() -> None:
        await settle(w, pod_id)
        pods.stop_pod(w.ctx, w.account, "cn-north-1", pod_id)
        await settle(w, pod_id)
        req = parse_body(
            RebuildPodRequest, {"containers": [{"name": "app", "image": "busybox", "command": ["echo", "new"]}]}
        )
        pods.rebuild_pod(w.ctx, w.account, "cn-north-1", pod_id, req)
        assert w.pod(pod_id).phase == "rebuilding"
        await settle(w, pod_id)

    w.run(go())
    pod = w.pod(pod_id)
    assert pod.phase == "stopped" and pod.generation == 2 and pod.materialized_generation == 2
    run = w.runtime.pods[pod_id].run
    assert run.generation == 2 and run.containers[0].command == ["echo", "new"]
    assert w.runtime.pods[pod_id].containers["app"].state == "created"
    assert w.state(pod_id).state.reason == "Created"


def test_a_stale_observation_does_not_override_a_new_intent(w: World) -> None:
    [pod_id] = w.create()

    async def go() -> None:
        await settle(w, pod_id)
        before = w.pod(pod_id)
        pods.stop_pod(w.ctx, w.account, "cn-north-1", pod_id)  # arrives while a pass holds `before`
        from podyard.store.pods import Observation

        wrote = ObservedStore(w.db, w.ctx.secret_box).save(
            pod_id, before.intent_version, Observation("running", None, None, (), (), None, None, 1)
        )
        assert wrote is False

    w.run(go())
    assert w.pod(pod_id).phase == "stopping"


def test_a_container_that_ends_at_once_is_restarted_under_always(w: World) -> None:
    [pod_id] = w.create(restart="Always")
    w.runtime.exit_at_start["app"] = 0

    async def go() -> None:
        await settle(w, pod_id)
        pod = w.pod(pod_id)
        assert pod.phase == "running" and pod.desired == "running"
        assert w.state(pod_id).state.reason == "CrashLoopBackOff"
        await w.clock.advance(1.01)
        await settle(w, pod_id)

    w.run(go())
    assert w.state(pod_id).restart_count == 1
    assert w.pod(pod_id).phase == "running"


def test_each_account_and_credential_fetch_an_image_once(w: World) -> None:
    from podyard.services.accounts import create_account

    mine = w.create("mine", count=2, image="127.0.0.1:1/shared:1")
    other_account, other_net = create_account(w.ctx, "other")
    theirs = pods.create_pods(
        w.ctx,
        other_account,
        "cn-north-1",
        parse_body(
            CreatePodsRequest,
            body_for(other_account, other_net, "theirs", "Always", ["sleep", "1"], 1, "127.0.0.1:1/shared:1"),
        ),
    )

    async def go() -> None:
        for p in (*mine, *theirs):
            await w.rec.reconcile(p)

    w.run(go())
    # Present after the first pull, the image is fetched once more: to check the second
    # account may have it, not to serve the first account's second pod.
    assert w.runtime.pulls.count("127.0.0.1:1/shared:1") == 2


def test_resync_finds_what_the_events_missed(w: World) -> None:
    import dataclasses

    a, b = w.create("a"), w.create("b")

    async def go() -> list[str]:
        for p in (*a, *b):
            await settle(w, p)
        assert await w.rec.resync_once() == []  # nothing changed since the last pass
        # A container ends and no event says so.
        fake = w.runtime.pods[b[0]]
        fake.containers["app"] = dataclasses.replace(fake.containers["app"], state="exited", exit_code=2)
        return await w.rec.resync_once()

    assert w.run(go()) == b


def test_a_vanished_subnet_is_permanent_not_retried(w: World) -> None:
    [pod_id] = w.create()
    w.rec.store.subnet = lambda subnet_id: None  # type: ignore[method-assign]  # gone before the pod is made

    async def go() -> None:
        w.rec.scheduler.bind()
        await settle(w, pod_id)
        assert w.clock.pending() == 0  # no retry planned
        await w.clock.advance(600)

    w.run(go())
    pod = w.pod(pod_id)
    assert (pod.phase, pod.reason) == ("error", "SubnetMissing")
    assert w.net.subnet_id in (pod.message or "") and pod_id not in w.runtime.pods
    pods.delete_pod(w.ctx, w.account, "cn-north-1", pod_id)  # an error pod can be deleted


def test_a_temporary_failure_is_retried_with_backoff(w: World) -> None:
    [pod_id] = w.create()
    failures = iter([True, True, False])
    real_inspect = w.runtime.inspect_pod

    async def flaky(pid: str) -> Any:
        if next(failures, False):
            raise RuntimeFailure("the runtime is restarting")
        return await real_inspect(pid)

    w.runtime.inspect_pod = flaky  # type: ignore[method-assign]

    async def go() -> None:
        w.rec.scheduler.bind()
        w.rec.nudge(pod_id)
        await wait_idle(w)
        assert w.rec.scheduler.planned(pod_id) == 1.0  # failed; retried in 1 s
        await w.clock.advance(1.0)
        await wait_idle(w)
        assert w.rec.scheduler.planned(pod_id) == 3.0  # failed again; the next retry waits 2 s
        assert w.pod(pod_id).phase == "pending"
        await w.clock.advance(2.0)
        await wait_idle(w)
        assert w.rec.scheduler.planned(pod_id) is None

    w.run(go())
    assert w.pod(pod_id).phase == "running"


async def wait_idle(w: World) -> None:
    """The pass runs partly on the database's thread: wait for it to be done."""
    for _ in range(500):
        await asyncio.sleep(0.01)
        if w.rec.idle():
            return
    raise AssertionError("the reconciler did not settle")


def test_a_vpcs_plan_keeps_its_order_when_its_pods_are_written(w: World) -> None:
    """The same pods make the same plan, however the database orders rows it rewrote
    (PostgreSQL moves an updated row): an unchanged VPC's rules are not loaded again."""
    ids = w.create(count=3)
    store = ObservedStore(w.db, w.ctx.secret_box)
    before = store.vpc_plan(w.net.vpc_id, "127.100.0.0/24", "10.226.0.0/16")
    assert before is not None and sorted(p.pod_id for p in before.ports) == sorted(ids)
    for pod_id in ids[:2]:
        w.run(settle(w, pod_id))  # status written back: the pod's row is rewritten
    assert store.vpc_plan(w.net.vpc_id, "127.100.0.0/24", "10.226.0.0/16") == before
