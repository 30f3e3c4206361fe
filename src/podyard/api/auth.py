"""Who is calling: verify the request's signature and find the account behind its key.

Refused with 401: no or malformed Authorization, an unknown access key, a wrong
signature (any byte of method, path, query, signed header or body changed), a
date outside the window or not matching the credential scope, and a replay of a
request already seen in the window (same signature and nonce). The server's
canonical string is never sent back.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from podyard.api import signature as sig
from podyard.domain.errors import Unauthenticated
from podyard.domain.records import AccountRecord

DATE_HEADER = "x-jdcloud-date"
NONCE_HEADER = "x-jdcloud-nonce"


@dataclass(frozen=True)
class Caller:
    account: AccountRecord
    service: str
    region: str


class ReplayGuard:
    """Remembers (signature, nonce) pairs for the signature window; bounded in memory."""

    def __init__(self, window_seconds: int, max_entries: int = 500_000) -> None:
        self.window = window_seconds
        self.max_entries = max_entries
        self._seen: OrderedDict[bytes, float] = OrderedDict()

    def first_time(self, signature: str, nonce: str, now: float) -> bool:
        while self._seen:
            key, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self.max_entries:
                break
            self._seen.popitem(last=False)
        key = hashlib.blake2b(f"{signature}\n{nonce}".encode(), digest_size=16).digest()
        if key in self._seen:
            return False
        self._seen[key] = now + 2 * self.window
        return True


class Authenticator:
    def __init__(
        self,
        lookup: Callable[[str], AccountRecord | None],
        window_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.lookup = lookup
        self.window = window_seconds
        self.clock = clock
        self.replays = ReplayGuard(window_seconds)

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
            when = datetime.strptime(request_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
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
        if not self.replays.first_time(auth.signature, nonce, now):
            raise Unauthenticated("this request was already received (same signature and nonce): a replay")
        return Caller(account=account, service=auth.service, region=auth.region)
