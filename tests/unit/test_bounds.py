"""Everything a caller can make grow is bounded (issue 10): each structure filled past its
cap keeps its size, and the right entries survive. Time is a clock the test drives."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from podyard.api.auth import REPLAY_ENTRY_BYTES, ReplayGuard
from podyard.control.clock import ManualClock
from podyard.control.images import LATEST_RECHECK_SECONDS, ImagePolicy
from podyard.domain.errors import NotFound, QuotaExceeded, RateLimited, Unauthenticated
from podyard.domain.records import AccountRecord
from podyard.domain.secrets import RegistryAuth
from podyard.runtime.podman.hijack import MAX_FRAME, HijackedStream
from podyard.runtime.protocol import RuntimeFailure
from podyard.services import accounts
from podyard.services.sessions import Sessions, StreamLimits

# --- image locks and the image-verification cache -------------------------------------


class PullCounter:
    def __init__(self) -> None:
        self.images: set[str] = set()
        self.pulls: list[tuple[str, RegistryAuth | None]] = []
        self.gate: asyncio.Event | None = None

    async def has_image(self, ref: str) -> bool:
        return ref in self.images

    async def pull_image(self, ref: str, auth: RegistryAuth | None) -> None:
        self.pulls.append((ref, auth))
        if self.gate is not None:
            await self.gate.wait()
        self.images.add(ref)


def policy(max_checked: int = 4) -> tuple[ImagePolicy, PullCounter, ManualClock]:
    runtime, clock = PullCounter(), ManualClock()
    return ImagePolicy(runtime, clock, max_checked=max_checked), runtime, clock  # type: ignore[arg-type]


def test_image_locks_live_only_while_used_and_one_pull_serves_the_waiters() -> None:
    async def run() -> None:
        images, runtime, _ = policy()
        runtime.gate = asyncio.Event()
        waiters = [asyncio.create_task(images.ensure("acct-1", "busybox:1", None)) for _ in range(5)]
        await asyncio.sleep(0)
        assert images.sizes()[0] == 1  # one lock for the reference, held and waited on
        runtime.gate.set()
        await asyncio.gather(*waiters)
        assert runtime.pulls == [("busybox:1", None)]  # one pull served all five
        assert images.sizes()[0] == 0
        for n in range(1_000):
            await images.ensure("acct-1", f"img-{n}:1", None)
        assert images.sizes()[0] == 0  # no lock outlives its use

    asyncio.run(run())


def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    async def run() -> None:
        images, runtime, _ = policy()
        runtime.gate = asyncio.Event()
        holder = asyncio.create_task(images.ensure("acct-1", "busybox:1", None))
        waiter = asyncio.create_task(images.ensure("acct-1", "busybox:1", None))
        await asyncio.sleep(0)
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        runtime.gate.set()
        await holder
        assert images.sizes()[0] == 0

    asyncio.run(run())


def test_the_verification_cache_keeps_the_most_recently_used_and_eviction_only_checks_again() -> None:
    async def run() -> None:
        images, runtime, _ = policy(max_checked=4)
        for n in range(4):
            await images.ensure("acct-1", f"img-{n}:1", None)
        await images.ensure("acct-1", "img-0:1", None)  # used again: the most recent now
        assert len(runtime.pulls) == 4
        for n in range(4, 40):
            await images.ensure("acct-1", f"img-{n}:1", None)
            assert images.sizes()[1] <= 4
        assert images.sizes()[1] == 4
        pulls = len(runtime.pulls)
        await images.ensure("acct-1", "img-39:1", None)  # among the kept: no registry check
        assert len(runtime.pulls) == pulls
        await images.ensure("acct-1", "img-0:1", None)  # evicted: checked with the registry again
        assert runtime.pulls[-1] == ("img-0:1", None) and len(runtime.pulls) == pulls + 1

    asyncio.run(run())


def test_the_per_account_check_stays_and_latest_is_rechecked() -> None:
    async def run() -> None:
        images, runtime, clock = policy()
        secret = RegistryAuth("registry.example", "u", "p")
        await images.ensure("acct-1", "registry.example/app:1", secret)
        await images.ensure("acct-2", "registry.example/app:1", None)  # another account: its own check
        assert runtime.pulls == [("registry.example/app:1", secret), ("registry.example/app:1", None)]
        await images.ensure("acct-1", "busybox:latest", None)
        await clock.advance(LATEST_RECHECK_SECONDS + 1)
        await images.ensure("acct-1", "busybox:latest", None)
        assert [r for r, _ in runtime.pulls].count("busybox:latest") == 2

    asyncio.run(run())


# --- exec sessions ------------------------------------------------------------------------


class Tick:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ended_exec(sessions: Sessions, account: str, pod: str = "pod-1", code: int = 0) -> str:
    s = sessions.open("exec", account, pod, "app", False)
    sessions.start(s)
    s.exit_code = code
    sessions.end(s)
    return s.session_id


def test_ended_execs_are_capped_per_account_oldest_first_and_others_keep_theirs() -> None:
    clock = Tick()
    sessions = Sessions(StreamLimits(ended_per_account=10, ended_total=25), clock=clock)
    quiet = [ended_exec(sessions, "acct-quiet", code=n) for n in range(5)]
    flood = [ended_exec(sessions, "acct-flood") for _ in range(1_000)]
    assert sessions.sizes() == {"sessions": 15, "open": 0, "ended": 15}
    for n, exec_id in enumerate(quiet):  # the flood evicted only its own
        assert sessions.find(exec_id, "acct-quiet", "pod-1", "app").exit_code == n
    for exec_id in flood[-10:]:
        sessions.find(exec_id, "acct-flood", "pod-1", "app")
    with pytest.raises(NotFound):
        sessions.find(flood[-11], "acct-flood", "pod-1", "app")
    # And in all: the oldest ended go first, whoever they were.
    for n in range(3):
        for _ in range(10):
            ended_exec(sessions, f"acct-{n}")
    assert sessions.sizes()["ended"] == 25
    with pytest.raises(NotFound):
        sessions.find(quiet[0], "acct-quiet", "pod-1", "app")


def test_ended_execs_expire_by_time_and_exit_codes_stay_readable_until_then() -> None:
    clock = Tick()
    sessions = Sessions(StreamLimits(keep_ended=60.0), clock=clock)
    first = ended_exec(sessions, "acct-1", code=3)
    clock.t += 30
    second = ended_exec(sessions, "acct-1", code=4)
    clock.t += 29.9
    assert sessions.find(first, "acct-1", "pod-1", "app").exit_code == 3
    clock.t += 0.1
    with pytest.raises(NotFound):
        sessions.find(first, "acct-1", "pod-1", "app")
    assert sessions.find(second, "acct-1", "pod-1", "app").exit_code == 4
    clock.t += 60
    sessions.prune()
    assert sessions.sizes() == {"sessions": 0, "open": 0, "ended": 0}


def test_open_sessions_are_capped_and_unstarted_ones_expire() -> None:
    clock = Tick()
    sessions = Sessions(StreamLimits(per_container=3, per_account=5, exec_id_ttl=10.0), clock=clock)
    opened = [sessions.open("exec", "acct-1", "pod-1", "app", False) for _ in range(3)]
    with pytest.raises(QuotaExceeded, match="container app"):
        sessions.open("exec", "acct-1", "pod-1", "app", False)
    sessions.start(opened[0])
    for _ in range(2):
        opened.append(sessions.open("attach", "acct-1", "pod-2", "app", False))
        sessions.start(opened[-1])
    with pytest.raises(QuotaExceeded, match="account"):
        sessions.open("exec", "acct-1", "pod-3", "app", False)
    sessions.open("exec", "acct-2", "pod-3", "app", False)  # another account has its own cap
    clock.t += 10
    # The unstarted execs expired; the started one and the attaches stay open.
    assert sessions.sizes()["open"] == 6
    sessions.prune()
    assert sessions.sizes() == {"sessions": 3, "open": 3, "ended": 0}
    with pytest.raises(NotFound):
        sessions.find(opened[1].session_id, "acct-1", "pod-1", "app")
    sessions.open("exec", "acct-1", "pod-1", "app", False)
    # An attach leaves nothing behind when it ends; neither does an exec never started.
    for s in opened[3:]:
        sessions.end(s)
    never = sessions.open("exec", "acct-1", "pod-1", "app", False)
    sessions.end(never)
    assert sessions.sizes() == {"sessions": 2, "open": 2, "ended": 0}


def test_a_flood_of_sessions_keeps_the_counters_small() -> None:
    clock = Tick()
    sessions = Sessions(StreamLimits(ended_per_account=8, ended_total=100), clock=clock)
    for n in range(5_000):
        ended_exec(sessions, f"acct-{n % 20}", pod=f"pod-{n}")
    assert sessions.sizes() == {"sessions": 100, "open": 0, "ended": 100}
    assert not sessions._per_container and not sessions._per_account and not sessions._unstarted
    assert len(sessions._ended_of) <= 20


# --- the access-key cache ------------------------------------------------------------------


class Reads:
    def __init__(self, known: dict[str, AccountRecord]) -> None:
        self.known = known
        self.count = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        yield None

    def by_access_key(self, _session: Any, *args: Any) -> AccountRecord | None:
        self.count += 1
        return self.known.get(args[-1])  # the key comes last


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Reads:
    ak = "A" * 32
    r = Reads({ak: AccountRecord("acct-1", "admin", ak, "s" * 40, True, False)})
    monkeypatch.setattr(accounts.accounts, "by_access_key", r.by_access_key)
    return r


def key_cache(reads: Reads, clock: Tick, **caps: int) -> accounts.KeyCache:
    return accounts.KeyCache(SimpleNamespace(db=reads, secret_box=None), ttl=2.0, clock=clock, **caps)  # type: ignore[arg-type]


def test_a_flood_of_unknown_keys_never_evicts_a_known_one(reads: Reads) -> None:
    clock = Tick()
    cache = key_cache(reads, clock, max_known=10, max_unknown=100)
    assert cache.lookup("A" * 32) is not None and reads.count == 1
    for n in range(5_000):
        assert cache.lookup(f"RANDOM{n:026d}") is None
    assert cache.sizes() == (1, 100)
    before = reads.count
    assert cache.lookup("A" * 32) is not None and reads.count == before  # still cached
    assert cache.lookup("RANDOM" + f"{4_999:026d}") is None and reads.count == before  # negative answer kept too


def test_key_cache_entries_live_ttl_seconds(reads: Reads) -> None:
    clock = Tick()
    cache = key_cache(reads, clock)
    cache.lookup("A" * 32)
    cache.lookup("B" * 32)
    clock.t += 1.9
    cache.lookup("A" * 32)
    cache.lookup("B" * 32)
    assert reads.count == 2
    clock.t += 0.1  # a change from the CLI shows within ttl seconds, both ways
    reads.known["B" * 32] = reads.known.pop("A" * 32)
    assert cache.lookup("A" * 32) is None and cache.lookup("B" * 32) is not None
    assert reads.count == 4


def test_keys_longer_than_any_podyard_makes_are_not_looked_up(reads: Reads) -> None:
    cache = key_cache(reads, Tick())
    assert cache.lookup("K" * (accounts.MAX_ACCESS_KEY + 1)) is None
    assert reads.count == 0 and cache.sizes() == (0, 0)


# --- the replay guard ----------------------------------------------------------------------


def sig(n: int) -> str:
    return f"{n:064x}"


def test_a_full_account_is_refused_rather_than_forgetting_and_others_go_on() -> None:
    guard = ReplayGuard(900, per_account=100)
    now = 1_000_000.0
    for n in range(100):
        guard.remember("acct-flood", sig(n), "nonce", now, now)
    with pytest.raises(RateLimited) as e:
        guard.remember("acct-flood", sig(100), "nonce", now, now)
    assert e.value.http_status == 429 and e.value.status == "RATE_LIMIT"
    with pytest.raises(Unauthenticated, match="replay"):  # nothing was forgotten
        guard.remember("acct-flood", sig(0), "nonce", now, now)
    for n in range(100):  # another account has its own share
        guard.remember("acct-quiet", sig(n), "nonce", now, now)
    assert len(guard) == 200
    # Once the oldest requests' dates are out of the window, their places free up.
    guard.remember("acct-flood", sig(100), "nonce", now + 1, now + 900.5)
    with pytest.raises(Unauthenticated, match="replay"):  # a request still in the window is still known
        guard.remember("acct-flood", sig(100), "nonce", now + 1, now + 900.5)
    assert len(guard) == 101


def test_entries_live_while_the_request_date_is_within_the_window() -> None:
    guard = ReplayGuard(900)
    guard.remember("acct-1", sig(1), "n", 5000.0, 5000.0)
    with pytest.raises(Unauthenticated):
        guard.remember("acct-1", sig(1), "n", 5000.0, 5900.0)  # still accepted by the date check: caught
    guard.remember("acct-1", sig(2), "n", 5901.0, 5901.0)  # the first is out of the window now
    assert len(guard) == 1


def test_the_whole_guard_is_bounded_by_its_memory_budget() -> None:
    guard = ReplayGuard(900, per_account=1_000, memory_bytes=250 * REPLAY_ENTRY_BYTES)
    assert guard.max_entries == 250
    now = 1_000_000.0
    accepted = 0
    for n in range(1_000):
        with contextlib.suppress(RateLimited):
            guard.remember(f"acct-{n % 10 + 1}", sig(n), "n", now, now)
            accepted += 1
    assert accepted == 250 and len(guard) == 250
    # Full: a new account's request sweeps out what expired of every account.
    guard.remember("acct-0", sig(5_000), "n", now + 1_000, now + 1_000)
    assert len(guard) == 1


# --- frames of a hijacked stream -----------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def wait_closed(self) -> None:
        return None


def test_a_frame_longer_than_the_cap_is_a_broken_stream() -> None:
    async def run() -> tuple[Sink, HijackedStream]:
        reader = asyncio.StreamReader()
        reader.feed_data(struct.pack(">BxxxI", 1, 5) + b"hello")
        reader.feed_data(struct.pack(">BxxxI", 1, 0xFFFF_FFFF) + b"x" * 1000)  # 4 GiB announced
        reader.feed_eof()
        sink = Sink()
        stream = HijackedStream(reader, sink, tty=False, early=b"")  # type: ignore[arg-type]
        assert await stream.read() == (1, b"hello")
        with pytest.raises(RuntimeFailure, match="broken"):
            await stream.read()
        return sink, stream

    sink, stream = asyncio.run(run())
    assert sink.closed and len(stream._buffer) == 0


def test_a_frame_at_the_cap_passes() -> None:
    async def run() -> tuple[int, bytes] | None:
        reader = asyncio.StreamReader()
        reader.feed_data(struct.pack(">BxxxI", 2, MAX_FRAME) + b"e" * MAX_FRAME)
        reader.feed_eof()
        return await HijackedStream(reader, Sink(), tty=False, early=b"").read()  # type: ignore[arg-type]

    assert asyncio.run(run()) == (2, b"e" * MAX_FRAME)
