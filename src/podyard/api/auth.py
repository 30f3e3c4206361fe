"""Who is calling: verify the request's signature and find the account behind its key.

Refused with 401: no or malformed Authorization, an unknown access key, a wrong
signature (any byte of method, path, query, signed header or body changed), a
date outside the window or not matching the credential scope, and a replay of a
request already seen in the window (same signature and nonce). The server's
canonical string is never sent back. Refused with 429 RATE_LIMIT: a signed request
that the replay guard has no room left to remember (see ReplayGuard).
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from podyard.api import signature as sig
from podyard.domain.errors import RateLimited, Unauthenticated
from podyard.domain.records import AccountRecord

DATE_HEADER = "x-jdcloud-date"
NONCE_HEADER = "x-jdcloud-nonce"


@dataclass(frozen=True)
class Caller:
    account: AccountRecord
    service: str
    region: str


# Measured with tracemalloc: an entry (16-byte digest, expiry, OrderedDict node) takes
# 147-187 bytes as the tables grow; at 190, the default 64 MiB holds 353,204 requests in
# all, and an account's share ~9.5 MB.
REPLAY_ENTRY_BYTES = 190
REPLAY_MEMORY = 64 * 1024 * 1024
# An account's share: 50,000 requests in a window (~55 a second sustained over 900 s).
REPLAY_PER_ACCOUNT = 50_000


class ReplayGuard:
    """Remembers (signature, nonce) pairs of each account's requests while their date is
    within the window, bounded in memory: ``per_account`` entries an account and
    ``memory_bytes`` in all. Only requests of a real account with a valid signature reach
    it. When an account's share (or the whole) is full of requests still in the window, a
    new request is refused (429 RATE_LIMIT, retry later) rather than an entry forgotten,
    which would let that request's replay through; one account's flood never evicts
    another's entries."""

    def __init__(
        self, window_seconds: int, per_account: int = REPLAY_PER_ACCOUNT, memory_bytes: int = REPLAY_MEMORY
    ) -> None:
        self.window = window_seconds
        self.per_account = per_account
        self.max_entries = max(1, memory_bytes // REPLAY_ENTRY_BYTES)
        self._seen: dict[str, OrderedDict[bytes, float]] = {}  # by account, in arrival order
        self._total = 0

    def __len__(self) -> int:
        return self._total

    def _expire(self, account_id: str, now: float) -> None:
        """Drop the account's entries from the oldest on, up to the first still needed: O(expired).
        Arrival order is nearly expiry order; an entry behind a later one is kept longer, never less."""
        seen = self._seen.get(account_id)
        while seen:
            if next(iter(seen.values())) >= now:
                return
            seen.popitem(last=False)
            self._total -= 1
        self._seen.pop(account_id, None)

    def remember(self, account_id: str, signature: str, nonce: str, when: float, now: float) -> None:
        """Records a request dated ``when``; Unauthenticated if it was seen, RateLimited if
        there is no room to remember it."""
        self._expire(account_id, now)
        key = hashlib.blake2b(f"{signature}\n{nonce}".encode(), digest_size=16).digest()
        seen = self._seen.get(account_id)
        if seen is not None and key in seen:
            raise Unauthenticated("this request was already received (same signature and nonce): a replay")
        if seen is not None and len(seen) >= self.per_account:
            raise RateLimited(
                f"the account has {self.per_account} signed requests within the signature window, "
                "the most podyard remembers for one account; retry later"
            )
        if self._total >= self.max_entries:
            for other in list(self._seen):
                self._expire(other, now)
            if self._total >= self.max_entries:
                raise RateLimited("podyard is remembering as many recent requests as it can hold; retry later")
        # Refused once |now - when| > window: until then a replay must be caught.
        self._seen.setdefault(account_id, OrderedDict())[key] = when + self.window
        self._total += 1


class Authenticator:
    def __init__(
        self,
        lookup: Callable[[str], AccountRecord | None],
        window_seconds: int = 900,
        clock: Callable[[], float] = time.time,
        replay_per_account: int = REPLAY_PER_ACCOUNT,
    ) -> None:
        self.lookup = lookup
        self.window = window_seconds
        self.clock = clock
        self.replays = ReplayGuard(window_seconds, replay_per_account)

    def authenticate(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, Sequence[str]],
        body: bytes,
    ) -> Caller:
        """``headers``: lower-case names to their values as received."""
        values = headers.get("authorization")
        if not values:
            raise Unauthenticated("the request is not signed: the Authorization header is missing")
        auth = sig.parse_authorization(values[0])
        if auth is None:
            raise Unauthenticated("the Authorization header is malformed")
        if auth.algorithm not in sig.ALGORITHMS:
            raise Unauthenticated(f"unknown signing algorithm {auth.algorithm}")
        if auth.terminator != sig.ALGORITHMS[auth.algorithm][1]:
            raise Unauthenticated(
                f"the credential scope of {auth.algorithm} ends in {sig.ALGORITHMS[auth.algorithm][1]}"
            )
        request_date = (headers.get(DATE_HEADER) or [""])[0].strip()
        try:
            when = sig.request_time(request_date)
        except ValueError:
            raise Unauthenticated(f"the {DATE_HEADER} header is missing or not YYYYMMDDTHHMMSSZ") from None
        now = self.clock()
        if abs(now - when) > self.window:
            raise Unauthenticated(f"the request date is more than {self.window // 60} minutes from the server's time")
        if request_date[:8] != auth.date:
            raise Unauthenticated("the request date does not match the date of the credential scope")
        nonce = (headers.get(NONCE_HEADER) or [""])[0]
        if not nonce:
            raise Unauthenticated(f"the {NONCE_HEADER} header is missing")
        if "host" not in auth.signed_headers:
            raise Unauthenticated("the host header must be signed")
        account = self.lookup(auth.access_key)
        if account is None:
            raise Unauthenticated("unknown access key")
        canonical = sig.canonical_request(method, raw_path, raw_query, headers, auth.signed_headers, body)
        if canonical is None:
            raise Unauthenticated("a header listed in SignedHeaders is missing from the request")
        expected = sig.signature(account.secret_key, auth, request_date, canonical)
        if not sig.signatures_match(expected, auth.signature):
            raise Unauthenticated("the signature does not match the request")
        self.replays.remember(account.account_id, auth.signature, nonce, when, now)
        return Caller(account=account, service=auth.service, region=auth.region)
