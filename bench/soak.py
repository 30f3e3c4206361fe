"""A bounded soak: concurrent clients doing mixed pod actions against one live podyard.

    .venv/bin/python -m bench.soak [--clients 50] [--seconds 300] [--think 0.5] [--ramp 30] [--json FILE] [--log FILE]

One live podyard on its own Podman (the e2e harness, with pools of its own: subnets from
10.239.0.0/16, elastic IPs from 127.103.0.0/24, inner addresses from 10.240.0.0/16) and
two accounts made for the run; half the clients sign as the first, half as the second.
Each client is a thread (they start one after another over ``--ramp`` seconds) with a
loop until ``--seconds`` have passed since the first started: it sleeps a random 0 to
2 x ``--think`` seconds, then picks a weighted random action among those its pods allow
(phases as podyard's table says; a client acts only on its own pods and knows their
phase from its last describePod or describePods; half the time it has a pod on its way
to a phase, it looks at that pod):

    createPods         maxCount 1, a fresh clientToken and name; at most 2 live pods a
                       client (<= 100 pods in all). A transport error or a 5xx is retried
                       with the same token; 1 create in 10 is sent twice on purpose and
                       must give the same pod id.
    describePod        one of its pods (a deleted one until it answers 404)
    describePods       the whole account (pageSize 100), checked against the account's
                       ledger (below)
    exec               execCreate ``echo MARK`` + execStart over the WebSocket jdc speaks
                       (drive/wsjdc.py) + execGetExitCode: the output must be MARK, the code 0
    getContainerLogs   tailLines 20 of a running or stopped pod
    stopPod            a running pod;  startPod  a stopped pod
    deletePod          a running, stopped or errored pod; then describePod until 404

Every request is recorded: action, HTTP status (or transport error), latency. A 5xx is a
failure; a 4xx is counted by status (400 FAILED_PRECONDITION when a pod is mid-transition
and 404 for a pod just deleted are expected; any other 4xx is listed as odd). And how
long each createPods, startPod, stopPod and deletePod took to show its end (running,
stopped, gone) to the pod's owner: an upper bound, as the owner looks about once a second.

The ledger: each account's pods as its clients made them (name, clientToken, id, when the
create was sent and answered, when the delete was sent, when a 404 showed it gone). Each
describePods answered between t0 (sent) and t1 (answered) must hold every pod created
before t0 and not deleted before t1 ("lost" if not), no pod another account made
("foreign"), no second pod of one name or token ("duplicate"), no pod seen gone before t0
("resurrected"), nothing unknown. A describePod answering 404 for a live pod is "lost" too.

Every 5 s: podyard's VmRSS, fds and threads, its Podman service's VmRSS, the CPU of both,
of this script, of the machine and of other jobs on it (processes naming pytest, postgres
or ``bench.``, and their children: a lower bound, as processes that end between two
samples are missed), the pods alive (ledger) and in ``podman pod ps``. "RSS flat" compares
the median of the samples in the last third of the run with the middle third, and fits a
line (least squares) to the last two thirds; reported, not asserted (flat: a growth under
2 MiB or 2%, and a slope under 0.5 MiB a minute). Beside it, what podyard's replay guard
alone should add: it keeps every signed request (190 B) for the signature window (900 s
unless ``--signature-window``), so RSS rises for that long under any steady load.

At the end: until no pod is mid-transition and every deleted pod is gone; then the ledger
against describePods of both accounts (and none in the admin account), and the store
against ``podman pod ps`` on podyard's Podman (every pod in one is in the other). Then all
pods are deleted, Podman must hold none, and podyard's RSS is sampled once more. About 6
minutes with the defaults. The figures: docs/benchmarks.md, "Soak (issue 10)".
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import resource
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import jdcloud_sdk.core.jdcloudclient as sdk_client
import requests
import websocket

from bench.host import machine, versions
from bench.live import live_podyard
from bench.probes import HZ, cpu_ticks, machine_busy, others
from bench.stats import pct, rss_kib
from drive.harness import Podyard, wait_for
from drive.jd import Account, Jd, JdError, container, pod_spec
from drive.wsjdc import JdcStream

SETTINGS = {
    "network_pool": "10.239.0.0/16",
    "elastic_ip_pool": "127.103.0.0/24",
    "elastic_ip_inner_pool": "10.240.0.0/16",
    "quota_pod": "2000",
    "quota_container": "8000",
}
PODS_PER_CLIENT = 2
WEIGHTS = {
    "describePod": 25,
    "describePods": 10,
    "getContainerLogs": 12,
    "exec": 8,
    "createPods": 12,
    "stopPod": 4,
    "startPod": 8,
    "deletePod": 3,
}
REPLAY = 0.1  # share of creates sent a second time with the same clientToken
SAMPLE_EVERY = 5.0
SETTLED = {"running", "stopped", "error"}
DELETABLE = {"running", "stopped", "error"}
PAGE = 100
CONTAINER = "app"
REPLAY_ENTRY_BYTES = 190  # what podyard's replay guard counts an entry (api/auth.py, docs/api-notes.md)
DEFAULT_WINDOW = 900  # podyard's signature_window_seconds
RISING = 0.5  # MiB a minute: a least-squares slope above it is not flat


def say(message: str) -> None:
    print(f"[{time.strftime('%X')}] {message}", flush=True)


def now_iso() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


# -- what the SDK's HTTP exchange was ----------------------------------------------------------
# The SDK keeps only the envelope; the HTTP status, the request id header and a body that is
# not JSON are taken from the requests response it got, kept per thread.

_seen = threading.local()


class _Requests:
    """Stands in for the ``requests`` module inside the SDK's client: the same calls, each
    response kept for the thread that made it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(requests, name)

    @staticmethod
    def request(*args: Any, **kwargs: Any) -> requests.Response:
        response = requests.request(*args, **kwargs)
        _seen.response = response
        return response


sdk_client.requests = _Requests()


@dataclass
class Answer:
    status: int | None  # HTTP status; None: a transport error (no answer)
    code: str = ""  # the envelope's error status, or the exception's class
    message: str = ""
    request_id: str = ""
    result: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 300

    @property
    def failed(self) -> bool:
        """No answer, or a 5xx: worth a retry when the action is safe to repeat."""
        return self.status is None or self.status >= 500


class Recorder:
    """Every request: (seconds since the start, stage, action, status, code, ms); and the
    detail of each 5xx, transport error and odd 4xx."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.stage = "setup"
        self.rows: list[tuple[float, str, str, int | None, str, float]] = []
        self.details: list[dict[str, Any]] = []
        self.round_trips: list[float] = []  # exec: execCreate until the exit code, all good
        self.stream_errors = 0

    def since(self, t: float | None = None) -> float:
        return (t if t is not None else time.perf_counter()) - self.t0

    def add(self, action: str, t: float, a: Answer, args: Any = None) -> Answer:
        took = time.perf_counter() - t
        self.rows.append((round(self.since(t), 3), self.stage, action, a.status, a.code, round(took * 1000, 2)))
        if a.failed:
            self.detail("5xx" if a.status else "transport", action, a, args)
        return a

    def detail(self, kind: str, action: str, a: Answer, args: Any = None) -> None:
        self.details.append(
            {
                "kind": kind,
                "at": now_iso(),
                "since_start_s": round(self.since(), 2),
                "stage": self.stage,
                "action": action,
                "args": repr(args)[:300] if args is not None else None,
                "status": a.status,
                "code": a.code,
                "message": a.message[:1000],
                "requestId": a.request_id,
            }
        )

    def call(self, jd: Jd, action: str, *args: Any, **optional: Any) -> Answer:
        _seen.response = None
        t = time.perf_counter()
        try:
            result = jd.call(action, *args, **optional)
            r = _seen.response
            a = Answer(r.status_code if r is not None else 200, request_id=_rid(r), result=result)
        except JdError as e:
            r = _seen.response
            a = Answer(r.status_code if r is not None else e.code, str(e.status), e.message, _rid(r))
        except requests.RequestException as e:
            a = Answer(None, type(e).__name__, str(e))
        except Exception as e:  # an answer the SDK could not read (not the JSON envelope)
            r = _seen.response
            if r is None:
                a = Answer(None, type(e).__name__, str(e))
            else:
                a = Answer(r.status_code, type(e).__name__, r.text, _rid(r))
        return self.add(action, t, a, args)

    def exec_start(self, endpoint: str, account: Account, pod_id: str, exec_id: str) -> tuple[Answer, bytes]:
        """execStart over the WebSocket, read until podyard closes it: (answer, stdout)."""
        t = time.perf_counter()
        out = b""
        try:
            stream = JdcStream(endpoint, account, pod_id, CONTAINER, "execStart", exec_id, timeout=60)
            try:
                got = stream.read_to_end(60)
            finally:
                stream.close()
            out = got.stdout
            a = Answer(101)
            if got.errors:  # an error frame after the upgrade
                a = Answer(101, "StreamError", "; ".join(got.errors))
        except websocket.WebSocketBadStatusException as e:
            body = (e.resp_body or b"").decode(errors="replace")
            a = Answer(e.status_code, "", body)
            with suppress(ValueError, AttributeError):
                envelope = json.loads(body)
                a = Answer(e.status_code, envelope["error"]["status"], envelope["error"]["message"])
                a.request_id = envelope.get("requestId", "")
        except (websocket.WebSocketException, OSError, AssertionError) as e:
            a = Answer(None, type(e).__name__, str(e))
        self.add("execStart", t, a, (pod_id, exec_id))
        if a.code == "StreamError":
            self.detail("stream error", "execStart", a, (pod_id, exec_id))
            self.stream_errors += 1
        return a, out


def _rid(r: requests.Response | None) -> str:
    return r.headers.get("x-jdcloud-request-id", "") if r is not None else ""


# -- the ledger -------------------------------------------------------------------------------


@dataclass
class Pod:
    name: str
    token: str
    account: str
    client: int
    create_sent: float
    pod_id: str | None = None
    create_done: float | None = None
    create_refused: bool = False  # a definite 4xx: no pod
    delete_sent: float | None = None  # of the delete podyard took
    gone_at: float | None = None  # a 404 was answered then
    phase: str = "pending"  # as its client last saw it
    waiting: tuple[str, str, float] | None = None  # (action, the phase it leads to, when it was taken)


@dataclass
class Ledger:
    """An account's pods as its clients made them."""

    name: str
    account: Account
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_name: dict[str, Pod] = field(default_factory=dict)
    by_id: dict[str, Pod] = field(default_factory=dict)

    def snapshot(self) -> list[Pod]:
        with self.lock:
            return list(self.by_name.values())

    def live(self) -> list[Pod]:
        """Created, not deleted."""
        return [p for p in self.snapshot() if p.pod_id and p.delete_sent is None]

    def deleting(self) -> list[Pod]:
        return [p for p in self.snapshot() if p.delete_sent is not None and p.gone_at is None]


class Violations:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.counts: Counter[str] = Counter()
        self.items: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def add(self, kind: str, **what: Any) -> None:
        with self.lock:
            self.counts[kind] += 1
            if len(self.items) < 200:
                self.items.append({"kind": kind, "at": now_iso(), "stage": self.recorder.stage, **what})
        say(f"VIOLATION {kind}: {what}")


@dataclass
class Soak:
    podyard: Podyard
    image: str
    recorder: Recorder
    ledgers: dict[str, Ledger]
    violations: Violations
    think: float
    window: int
    listings: Counter[str] = field(default_factory=Counter)
    odd: Counter[str] = field(default_factory=Counter)
    transitions: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))

    def seen(self, pod: Pod, phase: str, t: float) -> None:
        """The pod's owner saw it in ``phase`` (``gone``: a 404) in an answer sent at ``t``."""
        pod.phase = phase if phase != "gone" else pod.phase
        if pod.waiting is not None and pod.waiting[1] == phase:
            action, _, since = pod.waiting
            self.transitions[action].append((self.recorder.since(since), max(0.0, t - since)))
            pod.waiting = None

    def odd_answer(self, action: str, a: Answer, args: Any = None) -> None:
        self.odd[f"{action}: {a.status} {a.code}"] += 1
        self.recorder.detail("odd 4xx", action, a, args)

    def check_listing(self, ledger: Ledger, pods: list[dict[str, Any]], t0: float, t1: float, whole: bool) -> None:
        """One answer of describePods against the ledgers: sent at t0, answered at t1."""
        self.listings["checked" if whole else "partial (more than one page)"] += 1
        ids = [p["podId"] for p in pods]
        names = [p["name"] for p in pods]
        for dup in {i for i in ids if ids.count(i) > 1}:
            self.violations.add("duplicate", account=ledger.name, podId=dup, why="listed twice")
        for dup in {n for n in names if names.count(n) > 1}:
            self.violations.add("duplicate", account=ledger.name, name=dup, why="two pods of one name")
        with ledger.lock:
            by_id, by_name = dict(ledger.by_id), dict(ledger.by_name)
            mine = list(ledger.by_name.values())
        for p in pods:
            rec = by_id.get(p["podId"])
            if rec is None:
                named = by_name.get(p["name"])
                if named is not None and named.pod_id is None and not named.create_refused:
                    continue  # its createPods is still on its way
                if named is not None:
                    why = "a refused create made a pod" if named.create_refused else f"the name's pod is {named.pod_id}"
                    self.violations.add("duplicate", account=ledger.name, podId=p["podId"], name=p["name"], why=why)
                elif any(
                    p["podId"] in o.by_id or p["name"] in o.by_name for o in self.ledgers.values() if o is not ledger
                ):
                    self.violations.add("foreign", account=ledger.name, podId=p["podId"], name=p["name"])
                else:
                    self.violations.add("unknown", account=ledger.name, podId=p["podId"], name=p["name"])
            elif rec.gone_at is not None and rec.gone_at < t0:
                self.violations.add("resurrected", account=ledger.name, podId=rec.pod_id, phase=p["podStatus"]["phase"])
        if not whole:
            return
        seen = set(ids)
        for rec in mine:
            created = rec.create_done is not None and rec.create_done < t0
            kept = rec.delete_sent is None or rec.delete_sent > t1
            if created and kept and rec.pod_id not in seen:
                self.violations.add(
                    "lost", account=ledger.name, podId=rec.pod_id, name=rec.name, seen_by="describePods"
                )


# -- a client ---------------------------------------------------------------------------------


class Client(threading.Thread):
    def __init__(self, n: int, soak: Soak, ledger: Ledger, deadline: float, delay: float) -> None:
        super().__init__(name=f"client-{n}", daemon=True)
        self.n = n
        self.soak = soak
        self.ledger = ledger
        self.jd = Jd(soak.podyard.endpoint, ledger.account)
        self.rec = soak.recorder
        self.deadline = deadline
        self.delay = delay  # the ramp: clients start one after another
        self.rng = random.Random(n)
        self.pods: list[Pod] = []  # its own, until seen gone
        self.made = 0
        self.actions: Counter[str] = Counter()
        self.crashed: str | None = None

    def run(self) -> None:
        try:
            time.sleep(self.delay)
            while time.perf_counter() < self.deadline:
                time.sleep(self.rng.uniform(0, 2 * self.soak.think))
                if time.perf_counter() >= self.deadline:
                    break
                action, pod = self.pick()
                self.actions[action] += 1
                getattr(self, "do_" + action)(pod)
        except Exception as e:  # a bug of this script: said, and the client ends
            self.crashed = f"{type(e).__name__}: {e}"
            say(f"client {self.n} crashed: {self.crashed}")

    # what its pods allow
    def live(self) -> list[Pod]:
        return [p for p in self.pods if p.delete_sent is None]

    def pick(self) -> tuple[str, Pod | None]:
        live = self.live()
        by_phase: dict[str, list[Pod]] = defaultdict(list)
        for p in live:
            by_phase[p.phase].append(p)
        running, stopped = by_phase["running"], by_phase["stopped"]
        options: dict[str, list[Any]] = {"describePods": [None]}
        if self.pods:
            options["describePod"] = list(self.pods)
        if len(live) < PODS_PER_CLIENT:
            options["createPods"] = [None]
        if running:
            options["exec"] = list(running)
            options["stopPod"] = list(running)
        if running or stopped:
            options["getContainerLogs"] = running + stopped
        if stopped:
            options["startPod"] = list(stopped)
        deletable = [p for p in live if p.phase in DELETABLE]
        if deletable:
            options["deletePod"] = deletable
        moving = [p for p in self.pods if p.waiting is not None]
        if moving and self.rng.random() < 0.5:  # its owner looks often at a pod on its way
            return "describePod", self.rng.choice(moving)
        actions = list(options)
        action = self.rng.choices(actions, weights=[WEIGHTS[a] for a in actions])[0]
        return action, self.rng.choice(options[action])

    # the actions
    def retrying(self, action: str, *args: Any, tries: int = 5, **optional: Any) -> Answer:
        """A call repeated after a transport error or a 5xx (each one recorded)."""
        for i in range(tries):
            a = self.rec.call(self.jd, action, *args, **optional)
            if not a.failed or i == tries - 1:
                return a
            time.sleep(0.5 * 2**i)
        raise AssertionError("unreachable")

    def do_createPods(self, _: Pod | None) -> None:
        self.made += 1
        name = f"sk{self.n:02d}-{self.made}"
        spec = pod_spec(
            self.ledger.account,
            name,
            [container(image=self.soak.image, command=["sh", "-c", f"echo hello {name}; exec sleep 100000"])],
            terminationGracePeriodSeconds=0,
        )
        pod = Pod(name, uuid.uuid4().hex, self.ledger.name, self.n, time.perf_counter())
        with self.ledger.lock:
            self.ledger.by_name[name] = pod
        a = self.retrying("createPods", spec, 1, tries=8, clientToken=pod.token)
        if not a.ok:
            if a.failed:  # no answer after all tries: the pod may exist; the end's check says
                self.soak.violations.add("create unresolved", name=name, status=a.status, code=a.code)
                return
            pod.create_refused = True
            self.soak.odd_answer("createPods", a, name)
            return
        ids = list(a.result["podIds"])
        if len(ids) != 1:
            self.soak.violations.add("duplicate", name=name, why=f"maxCount 1 gave {ids}")
        pod.pod_id = ids[0]
        pod.create_done = time.perf_counter()
        pod.waiting = ("createPods", "running", pod.create_sent)
        with self.ledger.lock:
            if pod.pod_id in self.ledger.by_id:
                self.soak.violations.add("duplicate", podId=pod.pod_id, why="one id for two creates")
            self.ledger.by_id[pod.pod_id] = pod
        self.pods.append(pod)
        if self.rng.random() < REPLAY:  # the same request again, as a retry would send it
            again = self.retrying("createPods", spec, 1, tries=8, clientToken=pod.token)
            if again.ok and list(again.result["podIds"]) != ids:
                self.soak.violations.add("duplicate", name=name, why=f"clientToken retried: {again.result} vs {ids}")
            elif not again.ok:
                self.soak.odd_answer("createPods (same token)", again, name)

    def do_describePod(self, pod: Pod | None) -> None:
        assert pod is not None and pod.pod_id is not None
        t = time.perf_counter()
        a = self.rec.call(self.jd, "describePod", pod.pod_id)
        if a.ok:
            phase = a.result["pod"]["podStatus"]["phase"]
            if pod.delete_sent is not None and phase != "deleting":
                self.soak.violations.add("delete undone", podId=pod.pod_id, phase=phase)
            self.soak.seen(pod, phase, t)
            if a.result["pod"]["name"] != pod.name:
                self.soak.violations.add("wrong pod", podId=pod.pod_id, name=a.result["pod"]["name"])
        elif a.status == 404:
            if pod.delete_sent is None:
                self.soak.violations.add("lost", podId=pod.pod_id, name=pod.name, seen_by="describePod 404")
            pod.gone_at = time.perf_counter()
            self.soak.seen(pod, "gone", t)
            self.pods.remove(pod)
        elif not a.failed:
            self.soak.odd_answer("describePod", a, pod.pod_id)

    def do_describePods(self, _: Pod | None) -> None:
        t0 = time.perf_counter()
        a = self.rec.call(self.jd, "describePods", pageSize=PAGE)
        t1 = time.perf_counter()
        if not a.ok:
            if not a.failed:
                self.soak.odd_answer("describePods", a)
            return
        pods = a.result.get("pods") or []
        self.soak.check_listing(self.ledger, pods, t0, t1, whole=int(a.result["totalCount"]) == len(pods))
        phases = {p["podId"]: p["podStatus"]["phase"] for p in pods}
        for pod in self.live():
            if pod.pod_id in phases:
                self.soak.seen(pod, phases[pod.pod_id], t0)

    def do_getContainerLogs(self, pod: Pod | None) -> None:
        assert pod is not None
        a = self.rec.call(self.jd, "getContainerLogs", pod.pod_id, CONTAINER, tailLines=20)
        if a.ok and f"hello {pod.name}" not in (a.result.get("logs") or {}).get("content", ""):
            self.soak.odd["getContainerLogs: the container's first line missing"] += 1
        self.expected(a, "getContainerLogs", pod)

    def do_exec(self, pod: Pod | None) -> None:
        assert pod is not None and pod.pod_id is not None
        t = time.perf_counter()
        mark = f"soak-{uuid.uuid4().hex[:12]}"
        a = self.rec.call(self.jd, "execCreate", pod.pod_id, CONTAINER, ["echo", mark])
        if not a.ok:
            return self.expected(a, "execCreate", pod)
        exec_id = a.result["execId"]
        s, out = self.rec.exec_start(self.soak.podyard.endpoint, self.ledger.account, pod.pod_id, exec_id)
        if s.status != 101 or s.code:
            return self.expected(s, "execStart", pod)
        if out.strip() != mark.encode():
            self.soak.odd[f"exec: output {out[:60]!r}, not the mark"] += 1
        for i in range(5):
            c = self.rec.call(self.jd, "execGetExitCode", pod.pod_id, CONTAINER, exec_id)
            if c.ok or c.failed or "run" not in c.message:
                break
            self.soak.odd["execGetExitCode: still running after the stream ended"] += 1
            time.sleep(0.1 * (i + 1))
        if not c.ok:
            return self.expected(c, "execGetExitCode", pod)
        if c.result.get("execCode") != 0:
            self.soak.odd[f"exec: exit code {c.result.get('execCode')}"] += 1
        elif out.strip() == mark.encode():
            self.rec.round_trips.append(time.perf_counter() - t)

    def do_stopPod(self, pod: Pod | None) -> None:
        assert pod is not None
        t = time.perf_counter()
        a = self.retrying("stopPod", pod.pod_id)
        if a.ok:
            pod.phase = "stopping"
            pod.waiting = ("stopPod", "stopped", t)
        self.expected(a, "stopPod", pod)

    def do_startPod(self, pod: Pod | None) -> None:
        assert pod is not None
        t = time.perf_counter()
        a = self.retrying("startPod", pod.pod_id)
        if a.ok:
            pod.phase = "starting"
            pod.waiting = ("startPod", "running", t)
        self.expected(a, "startPod", pod)

    def do_deletePod(self, pod: Pod | None) -> None:
        assert pod is not None and pod.pod_id is not None
        pod.delete_sent = time.perf_counter()
        a = self.rec.call(self.jd, "deletePod", pod.pod_id)
        for _ in range(8):
            if not a.failed:
                break
            # No answer: see whether podyard took it before asking again.
            time.sleep(0.5)
            d = self.rec.call(self.jd, "describePod", pod.pod_id)
            if d.status == 404 or (d.ok and d.result["pod"]["podStatus"]["phase"] == "deleting"):
                a = Answer(200)
                break
            a = self.rec.call(self.jd, "deletePod", pod.pod_id)
        if a.ok:
            pod.phase = "deleting"
            pod.waiting = ("deletePod", "gone", pod.delete_sent)
            return
        pod.delete_sent = None  # refused: nothing was deleted
        self.expected(a, "deletePod", pod)

    def expected(self, a: Answer, action: str, pod: Pod) -> None:
        """A 4xx that a pod mid-transition explains is expected; any other is odd."""
        if a.ok or a.failed:
            return
        if a.status == 400 and a.code == "FAILED_PRECONDITION":
            return
        self.soak.odd_answer(action, a, pod.pod_id)


# -- what the machine shows -------------------------------------------------------------------


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def other_jobs_ticks() -> dict[tuple[int, int], int]:
    """CPU ticks so far (utime + stime) of the other jobs on the machine: every process whose
    command names pytest, postgres or ``bench.`` (this run and its ancestors aside), and
    their descendants; keyed by (pid, start time)."""
    mine = {os.getpid()}
    pid = os.getppid()
    while pid > 1:
        mine.add(pid)
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            break
    procs: dict[int, tuple[int, int, int]] = {}  # pid: (parent, start time, ticks)
    roots = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            n = int(entry.name)
            procs[n] = (int(fields[1]), int(fields[19]), int(fields[11]) + int(fields[12]))
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            if n not in mine and (b"pytest" in cmd or b"postgres" in cmd or b"bench." in cmd):
                roots.append(n)
    children: dict[int, list[int]] = defaultdict(list)
    for n, (parent, _, _) in procs.items():
        children[parent].append(n)
    found: dict[tuple[int, int], int] = {}
    while roots:
        n = roots.pop()
        if n in procs and (n, procs[n][1]) not in found:
            found[(n, procs[n][1])] = procs[n][2]
            roots += children[n]
    return found


class Sampler(threading.Thread):
    """Every SAMPLE_EVERY seconds: RSS, fds, threads and CPU of podyard and its Podman
    service, the machine's CPU, the pods alive by the ledger and in Podman."""

    def __init__(self, soak: Soak) -> None:
        super().__init__(name="sampler", daemon=True)
        self.soak = soak
        self.samples: list[dict[str, Any]] = []
        self.stop = threading.Event()
        podyard = soak.podyard
        assert podyard.proc is not None
        self.pid = podyard.proc.pid
        self.pid_file = podyard.podman_service.run_dir / "podman.pid"

    def podman_pid(self) -> int:
        return int(self.pid_file.read_text())

    def sample(self, last: dict[str, Any] | None) -> dict[str, Any]:
        podman = self.podman_pid()
        t = time.perf_counter()
        s: dict[str, Any] = {
            "t_s": round(self.soak.recorder.since(t), 1),
            "stage": self.soak.recorder.stage,
            "podyard_rss_mib": round(rss_kib(self.pid) / 1024, 2),
            "podman_rss_mib": round(rss_kib(podman) / 1024, 2),
            "podyard_fds": fds(self.pid),
            "podyard_threads": threads(self.pid),
            "podman_pid": podman,
            "_cpu": (t, cpu_ticks(self.pid), cpu_ticks(podman), machine_busy()),
            "_others": other_jobs_ticks(),
            "_me": client_cpu(),
        }
        if last is not None and last["podman_pid"] == podman:
            t0, p0, q0, m0 = last["_cpu"]
            span = (t - t0) * HZ / 100
            _, p1, q1, m1 = s["_cpu"]
            s["podyard_cpu_pct"] = round((p1 - p0) / span, 1)
            s["podman_cpu_pct"] = round((q1 - q0) / span, 1)
            s["machine_cpu_pct"] = round((m1 - m0) / span, 1)
            before, after = last["_others"], s["_others"]
            s["other_jobs_cpu_pct"] = round(sum(v - before.get(k, 0) for k, v in after.items()) / span, 1)
            s["this_script_cpu_pct"] = round((s["_me"] - last["_me"]) / (t - t0) * 100, 1)
        ledgers = self.soak.ledgers.values()
        s["pods_live"] = sum(len(lg.live()) for lg in ledgers)
        s["pods_deleting"] = sum(len(lg.deleting()) for lg in ledgers)
        s["phases_seen"] = dict(Counter(p.phase for lg in ledgers for p in lg.live()))
        listed = self.soak.podyard.podman("pod", "ps", "-q", check=False)
        s["podman_pods"] = len(listed.split())
        s["requests"] = len(self.soak.recorder.rows)
        return s

    def run(self) -> None:
        last = None
        while True:
            with suppress(OSError, ValueError):
                last = self.sample(last)
                self.samples.append(last)
            if self.stop.wait(SAMPLE_EVERY):
                return

    def clean(self) -> list[dict[str, Any]]:
        return [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.samples]


# -- the end's checks -------------------------------------------------------------------------


def listing(rec: Recorder, jd: Jd) -> list[dict[str, Any]]:
    """Every pod of the account, page by page (nothing changes them now)."""
    pods: list[dict[str, Any]] = []
    page = 1
    while True:
        for i in range(4):
            a = rec.call(jd, "describePods", pageNumber=page, pageSize=PAGE)
            if not a.failed:
                break
            time.sleep(1 + i)
        if not a.ok:
            raise RuntimeError(f"describePods: {a.status} {a.code} {a.message}")
        got = a.result.get("pods") or []
        pods += got
        if len(pods) >= int(a.result["totalCount"]) or not got:
            return pods
        page += 1


def settle(soak: Soak, jds: dict[str, Jd], timeout: float) -> dict[str, Any]:
    """Until no pod is mid-transition and every deleted pod is gone."""
    t = time.perf_counter()
    last: dict[str, Any] = {}
    while True:
        pods = {name: listing(soak.recorder, jd) for name, jd in jds.items()}
        phases = Counter(p["podStatus"]["phase"] for ps in pods.values() for p in ps)
        moving = {k: v for k, v in phases.items() if k not in SETTLED}
        last = {"phases": dict(phases), "seconds": round(time.perf_counter() - t, 1)}
        if not moving:
            return last
        if time.perf_counter() - t > timeout:
            stuck = [
                (p["podId"], p["podStatus"]["phase"], p["podStatus"].get("reason"))
                for ps in pods.values()
                for p in ps
                if p["podStatus"]["phase"] not in SETTLED
            ]
            soak.violations.add("not settled", seconds=timeout, pods=stuck[:20])
            last["not_settled"] = stuck
            return last
        time.sleep(1)


def final_check(soak: Soak, jds: dict[str, Jd], admin: Jd) -> dict[str, Any]:
    """The ledgers against describePods of both accounts, and the store against Podman."""
    now = time.perf_counter()
    listed = {name: listing(soak.recorder, jd) for name, jd in jds.items()}
    out: dict[str, Any] = {}
    store: set[str] = set()
    for name, ledger in soak.ledgers.items():
        pods = listed[name]
        ids = {p["podId"] for p in pods}
        # Every deleted pod is gone now: mark it so, then the listing must equal the live set.
        for rec in ledger.snapshot():
            if rec.delete_sent is not None and rec.gone_at is None and rec.pod_id not in ids:
                rec.gone_at = now
        soak.check_listing(ledger, pods, now, now, whole=True)
        live = {p.pod_id for p in ledger.live()}
        phases = Counter(p["podStatus"]["phase"] for p in pods)
        out[name] = {
            "listed": len(pods),
            "ledger_live": len(live),
            "missing_from_store": sorted(live - ids),
            "not_in_ledger": sorted(ids - live),
            "phases": dict(phases),
            "deleted_total": sum(p.delete_sent is not None for p in ledger.snapshot()),
            "created_total": sum(p.pod_id is not None for p in ledger.snapshot()),
            "refused_creates": sum(p.create_refused for p in ledger.snapshot()),
            "unresolved_creates": [p.name for p in ledger.snapshot() if p.pod_id is None and not p.create_refused],
        }
        store |= ids
        if ids & {p["podId"] for other, ps in listed.items() if other != name for p in ps}:
            soak.violations.add("foreign", account=name, why="a pod listed by both accounts")
    admin_pods = listing(soak.recorder, admin)
    out["admin_listed"] = len(admin_pods)
    store |= {p["podId"] for p in admin_pods}
    podman = set(soak.podyard.podman("pod", "ps", "--format", "{{.Name}}").split())
    out["store_pods"] = len(store)
    out["podman_pods"] = len(podman)
    out["in_store_not_podman"] = sorted(store - podman)
    out["in_podman_not_store"] = sorted(podman - store)
    out["match"] = store == podman and not any(out[n]["missing_from_store"] or out[n]["not_in_ledger"] for n in listed)
    if not out["match"]:
        soak.violations.add(
            "store and Podman differ",
            in_store_not_podman=out["in_store_not_podman"][:10],
            in_podman_not_store=out["in_podman_not_store"][:10],
        )
    return out


def drain(soak: Soak, jds: dict[str, Jd], timeout: float = 300) -> dict[str, Any]:
    """Every pod deleted, and gone from the store and from Podman."""
    t = time.perf_counter()
    for jd in jds.values():
        for p in listing(soak.recorder, jd):
            if p["podStatus"]["phase"] in DELETABLE:
                soak.recorder.call(jd, "deletePod", p["podId"])
    wait_for(lambda: not any(listing(soak.recorder, jd) for jd in jds.values()), timeout, "every pod to go")
    store_gone = time.perf_counter() - t
    left = wait_for(
        lambda: not soak.podyard.podman("pod", "ps", "-q").split() or None,
        60,
        "Podman to hold no pod",
    )
    return {"seconds": round(store_gone, 1), "podman_empty": bool(left)}


# -- the figures ------------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def per_action(rows: list[tuple[float, str, str, int | None, str, float]]) -> dict[str, Any]:
    """Counts by status class and latencies (of the 2xx and 101 answers) of each action."""
    out: dict[str, Any] = {}
    grouped: dict[str, list[tuple[float, str, str, int | None, str, float]]] = defaultdict(list)
    for row in rows:
        grouped[row[2]].append(row)
    for action in sorted(grouped):
        rs = grouped[action]
        good = [r[5] for r in rs if r[3] is not None and r[3] < 300 and not r[4]]
        out[action] = {
            "n": len(rs),
            "2xx": len(good),
            "stream_errors": sum(r[3] is not None and r[3] < 300 and bool(r[4]) for r in rs),
            "4xx": sum(r[3] is not None and 400 <= r[3] < 500 for r in rs),
            "5xx": sum(r[3] is not None and r[3] >= 500 for r in rs),
            "transport": sum(r[3] is None for r in rs),
            "p50_ms": round(statistics.median(good), 1) if good else None,
            "p99_ms": round(pct(good, 0.99), 1) if good else None,
            "max_ms": round(max(good), 1) if good else None,
        }
    return out


def four_xx(rows: list[tuple[float, str, str, int | None, str, float]]) -> dict[str, dict[str, int]]:
    """4xx answers: by status and code, each by action."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for _, _, action, status, code, _ms in rows:
        if status is not None and 400 <= status < 500:
            out[f"{status} {code}"][action] += 1
    return {k: dict(v) for k, v in sorted(out.items())}


def timeline(
    rows: list[tuple[float, str, str, int | None, str, float]],
    start: float,
    transitions: dict[str, list[tuple[float, float]]],
    bucket: float = 30,
) -> list[dict[str, Any]]:
    """Requests per second, 5xx, the answers' p50 and p99 (ms), and the medians of the
    transitions taken, per bucket of the soak."""
    buckets: dict[int, list[tuple[float, str, str, int | None, str, float]]] = defaultdict(list)
    for row in rows:
        buckets[int((row[0] - start) // bucket)].append(row)
    taken: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for action, values in transitions.items():
        for since, took in values:
            taken[int((since - start) // bucket)][action].append(took)
    out = []
    for k in sorted(buckets):
        rs = buckets[k]
        lat = [r[5] for r in rs if r[3] is not None and r[3] < 300]
        out.append(
            {
                "from_s": k * bucket,
                "req_per_s": round(len(rs) / bucket, 1),
                "5xx": sum(r[3] is not None and r[3] >= 500 for r in rs),
                "transport": sum(r[3] is None for r in rs),
                "p50_ms": round(statistics.median(lat), 1) if lat else None,
                "p99_ms": round(pct(lat, 0.99), 1) if lat else None,
                "transition_p50_ms": {a: ms(statistics.median(v)) for a, v in sorted(taken[k].items())},
            }
        )
    return out


def thirds(samples: list[dict[str, Any]], key: str, start: float, end: float) -> dict[str, Any]:
    """Medians of ``key`` over the first, middle and last third of [start, end]; the growth
    from the middle to the last, in MiB and per minute (between the thirds' centres)."""
    third = (end - start) / 3
    parts = [[s[key] for s in samples if start + i * third <= s["t_s"] < start + (i + 1) * third] for i in range(3)]
    med = [round(statistics.median(p), 2) if p else None for p in parts]
    out: dict[str, Any] = {"first": med[0], "middle": med[1], "last": med[2], "samples": [len(p) for p in parts]}
    if med[1] is not None and med[2] is not None:
        growth = med[2] - med[1]
        out["growth_mib"] = round(growth, 2)
        out["growth_mib_per_min"] = round(growth / (third / 60), 3)
        out["growth_pct"] = round(growth / med[1] * 100, 2)
        out["flat"] = growth < max(2.0, 0.02 * med[1])  # and the slope, below
    window = [s[key] for s in samples if start <= s["t_s"] <= end]
    if window:
        out["min"], out["max"] = min(window), max(window)
    late = [(s["t_s"], s[key]) for s in samples if start + third <= s["t_s"] <= end]
    if len(late) >= 3:  # least squares over the last two thirds
        mt, mv = statistics.fmean(t for t, _ in late), statistics.fmean(v for _, v in late)
        slope = sum((t - mt) * (v - mv) for t, v in late) / sum((t - mt) ** 2 for t, _ in late)
        out["slope_last_two_thirds_mib_per_min"] = round(slope * 60, 3)
        out["flat"] = out.get("flat", True) and slope * 60 < RISING
    return out


def columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in rows]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def number(x: Any) -> str:
    return "-" if x is None else f"{x:.0f}" if isinstance(x, float) and x >= 100 else str(x)


def report(r: dict[str, Any]) -> str:
    m, v, s = r["machine"], r["versions"], r["settings"]
    out = [
        f"podyard soak — {r['date']} — {m['cpus']} CPUs, {m['memory']} — {v['podman']}, Python {v['python']}",
        f"{s['clients']} clients ({s['clients_per_account']}), {r['soak_seconds']:.0f} s, "
        f"think 0-{2 * s['think']:g} s, {r['requests']} requests ({r['requests_per_s']:.1f}/s)",
        "",
    ]
    rows: list[tuple[str, ...]] = [("action", "n", "2xx/101", "4xx", "5xx", "transport", "p50 ms", "p99 ms", "max ms")]
    for action, a in r["per_action"].items():
        rows.append(
            (action, str(a["n"]), str(a["2xx"]), str(a["4xx"]), str(a["5xx"]), str(a["transport"]),
             number(a["p50_ms"]), number(a["p99_ms"]), number(a["max_ms"]))
        )  # fmt: skip
    t = r["totals"]
    rows.append(("all", str(t["n"]), str(t["2xx"]), str(t["4xx"]), str(t["5xx"]), str(t["transport"]), "", "", ""))
    if r["exec_round_trip"]["n"]:
        e = r["exec_round_trip"]
        rows.append(("exec round trip", str(e["n"]), "", "", "", "", number(e["p50_ms"]), number(e["p99_ms"]), ""))
    out.append(columns(rows))
    out.append("")
    rows = [("until its owner saw it", "leads to", "n", "p50 ms", "p99 ms", "max ms")]
    leads = {"createPods": "running", "startPod": "running", "stopPod": "stopped", "deletePod": "gone (404)"}
    for action, tr in r["transitions"].items():
        rows.append((action, leads[action], str(tr["n"]), number(tr["p50_ms"]), number(tr["p99_ms"]),
                     number(tr["max_ms"])))  # fmt: skip
    out.append(columns(rows))
    out.append("")
    out.append("4xx: " + ("; ".join(f"{k}: {sum(v.values())} ({v})" for k, v in r["4xx"].items()) or "none"))
    out.append(f"odd: {r['odd'] or 'none'}")
    out.append(f"5xx and transport errors outside the soak window: {r['failures_outside_soak']}")
    inv = r["invariants"]
    out.append(f"describePods checked against the ledger: {inv['listings']}; violations: {inv['violations'] or 'none'}")
    f = r["final"]
    out.append(f"at the end: settled in {r['settle']['seconds']} s ({r['settle']['phases']})")
    for n in r["accounts"]:
        a = f[n]
        out.append(
            f"  account {n}: {a['listed']} listed, {a['ledger_live']} live in the ledger "
            f"(created {a['created_total']}, deleted {a['deleted_total']}); "
            f"missing {len(a['missing_from_store'])}, not in the ledger {len(a['not_in_ledger'])}"
        )
    same = "the same pods" if f["match"] else "DIFFERENT"
    out.append(f"  admin: {f['admin_listed']} listed; store {f['store_pods']} pods, Podman {f['podman_pods']}: {same}")
    for key, label in (("podyard_rss_mib", "podyard RSS"), ("podman_rss_mib", "Podman service RSS")):
        th = r["rss"][key]
        flat = "looks flat" if th.get("flat") else "NOT flat"
        out.append(
            f"{label} (MiB, medians of thirds): {th['first']} / {th['middle']} / {th['last']}; "
            f"last - middle {th.get('growth_mib', 0):+.2f} MiB ({th.get('growth_mib_per_min', 0):+.3f} MiB/min; "
            f"least squares over the last two thirds {th.get('slope_last_two_thirds_mib_per_min', 0):+.3f} MiB/min): "
            f"{flat}"
        )
    rg = r["replay_guard"]
    out.append(
        f"podyard's replay guard keeps each signed request {rg['window_s']} s: at {rg['signed_per_s']}/s "
        f"that is {rg['mib_per_min']:+.2f} MiB/min for the first {rg['window_s']} s, then level at "
        f"{rg['level_mib']:.1f} MiB (at {REPLAY_ENTRY_BYTES} B an entry)"
    )
    rs = r["rss"]
    out.append(
        f"podyard RSS: {rs['before_soak_mib']} MiB before, {rs['after_settle_mib']} after settling, "
        f"{rs['after_drain_mib']} with every pod deleted; fds {rs['fds']}, threads {rs['threads']}"
    )
    p = r["pods_alive"]
    out.append(
        f"pods alive (ledger): min {p['min']}, median {p['median']}, max {p['max']}; in Podman max {p['podman_max']}"
    )
    out.append(f"CPU (median of samples, % of one core): {r['cpu']}; this script's own: {r['client_process_cpu_pct']}%")
    lg = r["podyard_log"]
    out.append(
        f"podyard's log: {lg.get('warnings')} warnings, {lg.get('errors')} errors, {lg.get('tracebacks')} tracebacks"
    )
    for kind, n in (lg.get("kinds") or {}).items():
        out.append(f"  {n} x {kind}")
    return "\n".join(out)


def podyard_log(log: Path, details: list[dict[str, Any]], since: int) -> dict[str, Any]:
    """podyard's warnings, errors and tracebacks after byte ``since``, and the lines naming
    a failed request's id."""
    if not log.exists():
        return {}
    with log.open("rb") as f:
        f.seek(since)
        lines = [line.decode(errors="replace").rstrip("\n") for line in f]
    ids = {d["requestId"] for d in details if d.get("requestId")}
    bad = [
        i
        for i, line in enumerate(lines)
        if " WARNING " in line or " ERROR " in line or "Traceback" in line or any(x in line for x in ids)
    ]
    shown: set[int] = set()
    for i in bad[:80]:
        shown |= set(range(max(0, i - 2), min(len(lines), i + 12)))

    def message(i: int) -> str:
        """A warning with the lines that continue it, its ids and paths made generic."""
        text = [lines[i].split(": ", 1)[-1]]
        for line in lines[i + 1 : i + 20]:
            if re.match(r"\d{4}-\d\d-\d\d |INFO:", line):
                break
            text.append(line.strip())
        said = " ".join(t for t in text if t)
        said = re.sub(r"\b[0-9a-f]{12,}\b|\b(pod|exec|subnet|vpc)-\w+", "ID", said)
        return re.sub(r"/\S+", "PATH", said)[:240]

    kinds = Counter(message(i) for i, line in enumerate(lines) if " WARNING " in line or " ERROR " in line)
    return {
        "lines": len(lines),
        "warnings": sum(" WARNING " in line for line in lines),
        "errors": sum(" ERROR " in line for line in lines),
        "tracebacks": sum("Traceback" in line for line in lines),
        "kinds": dict(kinds.most_common(20)),
        "excerpt": [lines[i] for i in sorted(shown)][:800],
    }


def summarize(soak: Soak, sampler: Sampler, start: float, end: float, extra: dict[str, Any]) -> dict[str, Any]:
    rec = soak.recorder
    rows = [row for row in rec.rows if row[1] == "soak"]
    totals = {
        "n": len(rows),
        "2xx": sum(r[3] is not None and r[3] < 300 for r in rows),
        "4xx": sum(r[3] is not None and 400 <= r[3] < 500 for r in rows),
        "5xx": sum(r[3] is not None and r[3] >= 500 for r in rows),
        "transport": sum(r[3] is None for r in rows),
    }
    samples = sampler.clean()
    soak_samples = [s for s in samples if start <= s["t_s"] <= end]
    trips = rec.round_trips
    live = [s["pods_live"] for s in soak_samples] or [0]

    def cpu(key: str) -> float | None:
        values = [s[key] for s in soak_samples if key in s]
        return round(statistics.median(values), 1) if values else None

    signed = len(rows) / (end - start)
    window = soak.window
    replay = {
        "window_s": window,
        "signed_per_s": round(signed, 1),
        "mib_per_min": round(signed * REPLAY_ENTRY_BYTES * 60 / 2**20, 2),
        "level_mib": round(signed * REPLAY_ENTRY_BYTES * window / 2**20, 1),
    }
    outside = Counter(
        f"{r[1]} {r[2]} {r[3] or r[4]}" for r in rec.rows if r[1] != "soak" and (r[3] is None or r[3] >= 500)
    )
    return {
        "soak_seconds": round(end - start, 1),
        "requests": len(rows),
        "requests_per_s": round(len(rows) / (end - start), 1),
        "totals": totals,
        "per_action": per_action(rows),
        "exec_round_trip": {
            "n": len(trips),
            "p50_ms": ms(statistics.median(trips)) if trips else None,
            "p99_ms": ms(pct(trips, 0.99)) if trips else None,
        },
        "4xx": four_xx(rows),
        "replay_guard": replay,
        "transitions": {
            action: {
                "n": len(v),
                "p50_ms": ms(statistics.median(v)),
                "p99_ms": ms(pct(v, 0.99)),
                "max_ms": ms(max(v)),
            }
            for action, v in sorted((a, [d for _, d in tv]) for a, tv in soak.transitions.items())
            if v
        },
        "odd": dict(soak.odd),
        "failures": rec.details[:300],
        "failures_outside_soak": dict(outside),
        "invariants": {"listings": dict(soak.listings), "violations": dict(soak.violations.counts)},
        "violations": soak.violations.items,
        "rss": {
            "podyard_rss_mib": thirds(samples, "podyard_rss_mib", start, end),
            "podman_rss_mib": thirds(samples, "podman_rss_mib", start, end),
            "fds": thirds(samples, "podyard_fds", start, end),
            "threads": thirds(samples, "podyard_threads", start, end),
            **extra,
        },
        "pods_alive": {
            "min": min(live),
            "median": statistics.median(live),
            "max": max(live),
            "podman_max": max((s["podman_pods"] for s in soak_samples), default=0),
        },
        "cpu": {
            "podyard": cpu("podyard_cpu_pct"),
            "podman_service": cpu("podman_cpu_pct"),
            "machine": cpu("machine_cpu_pct"),
            "other_jobs_at_least": cpu("other_jobs_cpu_pct"),
            "this_script": cpu("this_script_cpu_pct"),
        },
        "timeline": timeline(rows, start, soak.transitions),
        "samples": samples,
    }


# -- the run ----------------------------------------------------------------------------------


def warm_up(podyard: Podyard, rec: Recorder, jd: Jd, image: str) -> None:
    """One pod in the account, running, then gone: the pull, the subnet's bridge."""
    spec = pod_spec(
        jd.account, f"warm-{uuid.uuid4().hex[:6]}", [container(image=image, command=["sleep", "100000"])],
        terminationGracePeriodSeconds=0,
    )  # fmt: skip
    a = rec.call(jd, "createPods", spec, 1)
    if not a.ok:
        raise RuntimeError(f"warm-up createPods: {a.status} {a.code} {a.message}")
    [pod_id] = a.result["podIds"]
    wait_for(lambda: jd.pod(pod_id)["podStatus"]["phase"] == "running", 120, f"{pod_id} to run")
    jd.call("deletePod", pod_id)

    def gone() -> bool:
        try:
            jd.pod(pod_id)
        except JdError as e:
            return e.code == 404
        return False

    wait_for(gone, 120, f"{pod_id} to go")


def keep(log: Path, to: Path | None) -> None:
    if to is not None and log.exists():
        shutil.copy(log, to)


def client_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


@click.command()
@click.option("--clients", default=50, help="Concurrent clients (threads), half on each of two accounts.")
@click.option("--seconds", default=300.0, help="Seconds the clients run.")
@click.option("--think", default=0.5, help="Mean pause of a client between two actions (uniform 0 to twice it).")
@click.option("--ramp", default=30.0, help="Seconds over which the clients start, one after another.")
@click.option(
    "--signature-window",
    "window",
    type=int,
    help="podyard's signature_window_seconds (its own default: 900), which is how long it remembers each request.",
)
@click.option("--settle-timeout", default=300.0, help="Seconds to wait at the end for every pod to settle.")
@click.option("--json", "json_path", type=click.Path(path_type=Path), help="Write the results here too.")
@click.option("--log", "log_path", type=click.Path(path_type=Path), help="Keep podyard's log here.")
def main(clients: int, seconds: float, think: float, ramp: float, window: int | None, settle_timeout: float,
         json_path: Path | None, log_path: Path | None) -> None:  # fmt: skip
    per = [clients - clients // 2, clients // 2]
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "versions": versions(),
        "settings": {
            "clients": clients,
            "clients_per_account": f"{per[0]} + {per[1]}",
            "seconds": seconds,
            "think": think,
            "ramp": ramp,
            "signature_window_seconds": window or DEFAULT_WINDOW,
            "pods_per_client": PODS_PER_CLIENT,
            "weights": WEIGHTS,
            "replay_share": REPLAY,
            "sample_every_s": SAMPLE_EVERY,
            **SETTINGS,
        },
        "other_jobs_before": sorted(others()),
    }

    def save() -> None:
        if json_path:
            json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")

    work = Path(tempfile.mkdtemp(prefix="podyard-bench-soak-"))
    started = time.monotonic()
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, work, True)
        window_setting = {"signature_window_seconds": str(window)} if window else {}
        podyard, image = live_podyard(stack, work, **SETTINGS, **window_setting)
        stack.callback(keep, podyard.log, log_path)  # runs before the clean-up: the log is whole
        assert podyard.proc is not None
        pid = podyard.proc.pid
        recorder = Recorder()
        accounts = {"a": podyard.new_account("soak-a"), "b": podyard.new_account("soak-b")}
        ledgers = {name: Ledger(name, acct) for name, acct in accounts.items()}
        soak = Soak(podyard, image, recorder, ledgers, Violations(recorder), think, window or DEFAULT_WINDOW)
        jds = {name: podyard.jd(acct) for name, acct in accounts.items()}
        for jd in jds.values():
            warm_up(podyard, recorder, jd, image)
        time.sleep(3)
        result["accounts"] = list(accounts)
        log_start = podyard.log.stat().st_size
        rss_before = round(rss_kib(pid) / 1024, 2)
        sampler = Sampler(soak)
        sampler.start()
        stack.callback(sampler.stop.set)
        time.sleep(1)

        say(f"soak: {clients} clients for {seconds:.0f} s")
        recorder.stage = "soak"
        cpu0 = client_cpu()
        start = recorder.since()
        deadline = time.perf_counter() + seconds
        names = list(accounts)
        crowd = [Client(i, soak, ledgers[names[i % 2]], deadline, i * ramp / clients) for i in range(clients)]
        for c in crowd:
            c.start()
        next_word = time.perf_counter() + 10
        while any(c.is_alive() for c in crowd):
            time.sleep(0.2)
            if time.perf_counter() >= next_word:
                next_word += 10
                s = sampler.samples[-1] if sampler.samples else {}
                say(
                    f"{len(recorder.rows)} requests, {sum(1 for d in recorder.details if d['kind'] == '5xx')} 5xx, "
                    f"{sum(soak.violations.counts.values())} violations; pods live {s.get('pods_live')}, "
                    f"in Podman {s.get('podman_pods')}; podyard RSS {s.get('podyard_rss_mib')} MiB"
                )
        end = recorder.since()  # the last client's last answer
        result["client_process_cpu_pct"] = round((client_cpu() - cpu0) / (end - start) * 100, 1)
        result["clients_crashed"] = {c.name: c.crashed for c in crowd if c.crashed}
        result["actions_picked"] = dict(sum((c.actions for c in crowd), Counter()))

        say("settling")
        recorder.stage = "settle"
        result["settle"] = settle(soak, jds, settle_timeout)
        time.sleep(2)
        rss_settled = round(rss_kib(pid) / 1024, 2)
        result["final"] = final_check(soak, jds, podyard.jd())
        save()
        say("deleting every pod")
        recorder.stage = "drain"
        result["drain"] = drain(soak, jds)
        time.sleep(5)
        sampler.stop.set()
        sampler.join()
        extra = {
            "before_soak_mib": rss_before,
            "after_settle_mib": rss_settled,
            "after_drain_mib": round(rss_kib(pid) / 1024, 2),
            "podman_after_drain_mib": round(rss_kib(sampler.podman_pid()) / 1024, 2),
        }
        result.update(summarize(soak, sampler, start, end, extra))
        result["rss"]["fds"] = f"{result['rss']['fds'].get('min')}-{result['rss']['fds'].get('max')}"
        result["rss"]["threads"] = f"{result['rss']['threads'].get('min')}-{result['rss']['threads'].get('max')}"
        result["podyard_log"] = podyard_log(podyard.log, recorder.details, log_start)
        result["other_jobs_after"] = sorted(others())
        result["total_seconds"] = round(time.monotonic() - started, 1)
        print(report(result))
        save()
        if result["totals"]["5xx"] or result["invariants"]["violations"] or result["failures_outside_soak"]:
            kept = Path(f"/tmp/podyard-soak-{int(time.time())}.log")
            keep(podyard.log, kept)
            say(f"failures seen: podyard's log kept at {kept}")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
