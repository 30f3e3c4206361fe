"""Probes on the fake runtime and a hand-driven clock: readiness flips ``ready`` and the
Ready condition, liveness failures restart the container under its policy, thresholds
and delays count as documented, and only transitions are written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from podyard.domain.probes import Probe, ProbeResult, Verdict
from podyard.services import pods
from podyard.store.observed import ObservedStore
from tests.unit.test_reconciler import World, body_for, settle

FAIL = ProbeResult(False, "HTTP probe failed with statuscode: 503")


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    # The probes' rules do not depend on the database: SQLite only (the reconciler's
    # tests run on both).
    world = World(tmp_path, f"sqlite:///{tmp_path / 'podyard.db'}")
    yield world
    world.db.close()


def create(w: World, restart: str = "Always", **probes: dict[str, Any]) -> str:
    from podyard.domain.specs.actions import CreatePodsRequest
    from podyard.domain.specs.wire import parse_body

    body = body_for(w.account, w.net, "pr", restart, ["sleep", "1000"], 1, "busybox")
    body["podSpec"]["containers"][0].update(probes)
    [pod_id] = pods.create_pods(w.ctx, w.account, "cn-north-1", parse_body(CreatePodsRequest, body))
    return pod_id


def checks(w: World, pod_id: str, kind: str) -> int:
    return sum(1 for p, _, c in w.runtime.probes if p == pod_id and c.kind == kind)


def test_defaults_and_thresholds() -> None:
    p = Probe.from_spec({"tcpSocket": {"port": 80}})
    assert (p.initial_delay_seconds, p.period_seconds, p.check.timeout_seconds) == (10, 10, 1)
    assert (p.failure_threshold, p.success_threshold) == (3, 1)
    hg = Probe.from_spec({"httpGet": {"port": 8080, "path": "healthz", "scheme": "HTTPS"}, "initialDelaySeconds": 0})
    assert (hg.check.scheme, hg.check.path, hg.check.host, hg.initial_delay_seconds) == ("https", "/healthz", None, 0)
    two = Probe.from_spec({"exec": {"command": ["true"]}, "successThreshold": 2, "failureThreshold": 2})
    v = Verdict(passing=False)
    assert [v.record(ok, two) for ok in (True, False, True, True)] == [False, False, False, True]
    assert v.passing
    assert [v.record(ok, two) for ok in (False, True, False, False)] == [False, False, False, True]
    assert not v.passing


def test_readiness_drives_ready_and_the_condition(w: World) -> None:
    probe = {"httpGet": {"port": 8080, "path": "/ready"}, "initialDelaySeconds": 5, "periodSeconds": 2}
    pod_id = create(w, readinessProbe=probe)

    async def go() -> None:
        await settle(w, pod_id)
        pod = w.pod(pod_id)
        assert pod.phase == "running" and w.state(pod_id).ready is False
        assert (pod.conditions[0].status, pod.conditions[0].reason) == ("False", "ContainersNotReady")
        await w.clock.advance(4.9)
        assert checks(w, pod_id, "httpGet") == 0  # the initial delay
        await w.clock.advance(0.2)
        assert checks(w, pod_id, "httpGet") == 1
        [(_, _, check)] = w.runtime.probes
        assert (check.port, check.path, check.host) == (8080, "/ready", None)
        await settle(w, pod_id)
        became_ready = w.clock.now()
        pod = w.pod(pod_id)
        assert w.state(pod_id).ready is True
        assert pod.conditions[0].status == "True" and pod.conditions[0].last_transition == became_ready

        # Failing: not ready after failureThreshold (3) failures in a row, not before.
        w.runtime.probe_results[(pod_id, "app", "httpGet")] = FAIL
        await w.clock.advance(4)  # two failures
        await settle(w, pod_id)
        assert w.state(pod_id).ready is True
        await w.clock.advance(2)  # the third
        await settle(w, pod_id)
        pod = w.pod(pod_id)
        assert w.state(pod_id).ready is False and pod.phase == "running"
        assert pod.conditions[0].status == "False" and pod.conditions[0].last_transition == w.clock.now()
        assert w.state(pod_id).restart_count == 0  # readiness never restarts

    w.run(go())


def test_liveness_failure_restarts_with_a_reason(w: World) -> None:
    probe = {"exec": {"command": ["cat", "/tmp/healthy"]}, "initialDelaySeconds": 0, "periodSeconds": 1,
             "failureThreshold": 2}  # fmt: skip
    pod_id = create(w, livenessProbe=probe)

    async def go() -> None:
        await settle(w, pod_id)
        assert w.state(pod_id).ready is True  # no readiness probe: ready while running
        await w.clock.advance(3)
        assert w.runtime.pods[pod_id].containers["app"].state == "running"  # passing so far
        w.runtime.probe_results[(pod_id, "app", "exec")] = ProbeResult(False, "command exited with 1")
        await w.clock.advance(1)
        assert w.runtime.pods[pod_id].containers["app"].state == "running"  # one failure is not enough
        await w.clock.advance(1)
        assert w.runtime.pods[pod_id].containers["app"].state == "exited"  # stopped by the probe
        await settle(w, pod_id)
        s = w.state(pod_id)
        assert s.state.reason == "CrashLoopBackOff" and s.ready is False
        assert s.last_state.reason == "LivenessProbeFailed" and "command exited with 1" in s.last_state.message
        del w.runtime.probe_results[(pod_id, "app", "exec")]
        await w.clock.advance(1.01)
        await settle(w, pod_id)
        s = w.state(pod_id)
        assert s.state.kind == "running" and s.restart_count == 1 and s.last_state.reason == "LivenessProbeFailed"
        # The new run is probed afresh: at once (no initial delay), then every second.
        await w.clock.advance(0)
        before = checks(w, pod_id, "exec")
        await w.clock.advance(2)
        assert checks(w, pod_id, "exec") == before + 2

    w.run(go())


def test_liveness_under_never_ends_the_pod(w: World) -> None:
    pod_id = create(w, restart="Never", livenessProbe={"tcpSocket": {"port": 80}, "failureThreshold": 1})
    w.runtime.probe_results[(pod_id, "app", "tcpSocket")] = ProbeResult(False, "connection refused")

    async def go() -> None:
        await settle(w, pod_id)
        await w.clock.advance(10)  # the default initial delay
        await settle(w, pod_id)

    w.run(go())
    pod = w.pod(pod_id)
    assert (pod.phase, pod.reason) == ("stopped", "Failed")
    assert w.state(pod_id).state.reason == "LivenessProbeFailed" and w.state(pod_id).restart_count == 0
    assert w.rec.prober.watched() == 0


def test_status_is_written_on_transitions_only(w: World) -> None:
    writes: list[str] = []
    store = w.rec.writer._store
    assert isinstance(store, ObservedStore)
    real_save = store.save

    def counting(pod_id: str, *args: Any) -> bool:
        writes.append(pod_id)
        return real_save(pod_id, *args)

    store.save = counting  # type: ignore[method-assign]
    probe = {"tcpSocket": {"port": 80}, "initialDelaySeconds": 0, "periodSeconds": 1}
    pod_id = create(w, readinessProbe=probe, livenessProbe={"exec": {"command": ["true"]}})

    async def go() -> None:
        await settle(w, pod_id)
        await w.clock.advance(0)
        await settle(w, pod_id)  # ready: one write
        written = len(writes)
        for _ in range(20):  # twenty more checks of each probe, all passing, and passes over the pod
            await w.clock.advance(1)
            await settle(w, pod_id)
        assert checks(w, pod_id, "tcpSocket") >= 20
        assert len(writes) == written

    w.run(go())


def test_stopping_the_pod_stops_its_probes(w: World) -> None:
    pod_id = create(w, readinessProbe={"tcpSocket": {"port": 80}, "periodSeconds": 1})

    async def go() -> None:
        await settle(w, pod_id)
        assert w.rec.prober.watched() == 1
        pods.stop_pod(w.ctx, w.account, "cn-north-1", pod_id)
        await settle(w, pod_id)
        assert w.rec.prober.watched() == 0
        before = len(w.runtime.probes)
        await w.clock.advance(30)
        assert len(w.runtime.probes) == before

    w.run(go())
    assert w.pod(pod_id).phase == "stopped"


def test_probes_keep_a_fixed_beat(w: World) -> None:
    real_probe = w.runtime.probe
    slow = {"seconds": 0.4}
    started: list[float] = []

    async def slow_probe(*args: Any) -> ProbeResult:
        started.append(w.clock.monotonic())
        await w.clock.sleep(slow["seconds"])  # each check takes a while
        return await real_probe(*args)

    w.runtime.probe = slow_probe  # type: ignore[method-assign]
    pod_id = create(w, readinessProbe={"tcpSocket": {"port": 80}, "initialDelaySeconds": 0, "periodSeconds": 1})

    async def go() -> None:
        await settle(w, pod_id)
        await w.clock.advance(10.5)
        assert started == [float(t) for t in range(11)]  # 0, 1, ..., 10: not pushed back by 0.4 s each
        slow["seconds"] = 2.5  # a check that overruns two beats: they are skipped, not bunched
        await w.clock.advance(10)
        assert started[11:] == [11.0, 14.0, 17.0, 20.0]
        assert checks(w, pod_id, "tcpSocket") == 11 + 3  # the one started at 20 is not done yet

    w.run(go())
