"""A flood through the real app on the fake runtime (issue 10): random access keys, one
account's burst of signed requests, many image references through createPods, many exec
sessions. Every structure a caller can grow stays at or below its cap, and podyard's
traced memory levels off: the second half of the flood adds next to nothing.

The caps are made small here so the flood passes each of them within seconds; the
defaults and what they cost are in docs/api-notes.md ("Bounds")."""

from __future__ import annotations

import gc
import http.client
import secrets
import tracemalloc
from datetime import UTC, datetime

import pytest
from cachetools import LRUCache

from drive.jd import container, pod_spec
from drive.wsjdc import JdcStream, signed_headers
from podyard.api.auth import ReplayGuard
from podyard.services.accounts import KeyCache
from podyard.services.sessions import Sessions, StreamLimits

UNKNOWN_KEYS_KEPT = 100
REPLAY_SHARE = 300
IMAGE_CHECKS_KEPT = 30
ENDED_KEPT = 20


def random_key_requests(conn: http.client.HTTPConnection, n: int) -> None:
    """Well-formed requests signed with made-up keys: each reaches the key lookup, then 401."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for _ in range(n):
        key = secrets.token_hex(16).upper()
        headers = {
            "authorization": f"JDCLOUD3-HMAC-SHA256 Credential={key}/{stamp[:8]}/cn-north-1/pod/jdcloud3_request, "
            f"SignedHeaders=content-type;host, Signature={secrets.token_hex(32)}",
            "content-type": "application/json",
            "x-jdcloud-date": stamp,
            "x-jdcloud-nonce": secrets.token_hex(8),
        }
        conn.request("GET", "/v1/regions/cn-north-1/pods", headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 401


def signed_requests(conn: http.client.HTTPConnection, account, n: int) -> dict[int, int]:
    """A burst of valid signed requests of one account: answered, then 429 once its share is full."""
    statuses: dict[int, int] = {}
    url = f"http://{conn.host}:{conn.port}/v1/regions/cn-north-1/flood"
    for _ in range(n):
        conn.request("GET", "/v1/regions/cn-north-1/flood", headers=signed_headers(account, url))
        resp = conn.getresponse()
        resp.read()
        statuses[resp.status] = statuses.get(resp.status, 0) + 1
    return statuses


def image_round(server, jd, tag: str) -> None:
    """Pods with distinct image references, pulled by the reconciler, then deleted."""
    pods = [
        jd.create_pods(
            pod_spec(jd.account, f"i{tag}{p}", [container(f"c{i}", f"busybox:{tag}-{p}-{i}") for i in range(4)])
        )[0]
        for p in range(5)
    ]
    server.settle()
    for pod_id in pods:
        jd.call("deletePod", pod_id)
    server.settle()


def exec_round(server, jd, pod_id: str, n: int) -> None:
    for _ in range(n):
        exec_id = jd.call("execCreate", pod_id, "app", ["echo", "hi"])["execId"]
        assert JdcStream(server.endpoint, jd.account, pod_id, "app", "execStart", exec_id).read_to_end(10).stdout
    server.in_loop(server.runtime.execs.clear)  # the fake runtime's own records, not podyard's


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_a_flood_levels_off(fake_server) -> None:
    app, jd = fake_server.app, fake_server.jd()
    if not app.settings.db_url.startswith("sqlite"):
        pytest.skip("the bounds are the same on every database: once, on SQLite, is enough")
    flooder = fake_server.new_account("flooder")
    # A long ttl: the admin's key can only leave the cache by eviction.
    keys = KeyCache(app.ctx, 600.0, max_known=10, max_unknown=UNKNOWN_KEYS_KEPT)
    replays = ReplayGuard(app.settings.signature_window_seconds, per_account=REPLAY_SHARE)
    sessions = Sessions(StreamLimits(ended_per_account=ENDED_KEPT, ended_total=2 * ENDED_KEPT))

    def small_caps() -> None:
        app.gateway.auth.lookup = keys.lookup
        app.gateway.auth.replays = replays
        app.ctx.sessions = sessions
        app.reconciler.images._checked = LRUCache(IMAGE_CHECKS_KEPT)  # its cap is set at start-up

    fake_server.in_loop(small_caps)
    [pod_id] = jd.create_pods(pod_spec(jd.account, "shell", [container(command=["sleep", "1000"])]))
    fake_server.settle()
    conn = http.client.HTTPConnection(*fake_server.endpoint.split(":"), timeout=10)

    def flood(tag: str) -> None:
        random_key_requests(conn, 1_500)
        statuses = signed_requests(conn, flooder, 200)
        assert set(statuses) <= {404, 429}, statuses
        image_round(fake_server, jd, tag)
        exec_round(fake_server, jd, pod_id, 30)
        fake_server.in_loop(lambda: (fake_server.runtime.pulls.clear(), fake_server.runtime.pull_auth.clear()))

    flood("w")  # warm-up: lazily built things (statement caches, imports) are built
    tracemalloc.start()
    try:
        before = traced()
        flood("a")
        first = traced()
        flood("b")
        second = traced()
    finally:
        tracemalloc.stop()

    # Every structure went past its cap and stayed at it.
    assert keys.sizes() == (2, UNKNOWN_KEYS_KEPT)  # the admin and the flooder: no real account evicted
    assert len(replays) <= 2 * REPLAY_SHARE  # two accounts signed: each within its share
    assert app.reconciler.images.sizes() == (0, IMAGE_CHECKS_KEPT)  # no lock left, checks capped
    assert sessions.sizes() == {"sessions": ENDED_KEPT, "open": 0, "ended": ENDED_KEPT}
    # The flooder's burst hit its own share only (429); the others still sign requests.
    assert signed_requests(conn, flooder, 1) == {429: 1}
    jd.call("describePods")
    conn.close()
    # Memory levels off: the second half of the flood adds next to nothing (an unbounded
    # key cache alone would add ~300 KB).
    grew_first, grew_second = first - before, second - first
    print(f"traced memory: +{grew_first} B in the first half, +{grew_second} B in the second")
    assert grew_second < 200_000, (grew_first, grew_second)
