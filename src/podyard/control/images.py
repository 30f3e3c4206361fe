"""Image pull policy: who may use an image, and when a tag is looked up again.

The first use of an image by an account with given credentials (or none) since
podyard started fetches it from the registry with them, so no one runs a private
image someone else was allowed to pull; after that, a present image is used as it
is, but a ``latest`` tag is re-resolved once it is over a minute old.

Both maps are keyed by what users write, so both are bounded: a reference's lock
lives while someone holds or waits for it, and the record of checks keeps the
``max_checked`` most recently used. A forgotten check costs one more registry
check, never a skipped one.

Right before each pull, the operator's registry lists are applied again
(``registry_check``, services/registries.py): a refusal is the pull's failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from cachetools import LRUCache

from podyard.control.clock import Clock
from podyard.domain.images import DEFAULT_TAG
from podyard.domain.secrets import RegistryAuth
from podyard.runtime.protocol import ImagePullFailure, Runtime

LATEST_RECHECK_SECONDS = 60
# Measured with tracemalloc: ~350 bytes an entry of a typical reference, ~930 of one of
# the longest (639 characters), so at most ~10 MB (credentials, when given, add theirs).
MAX_CHECKED = 10_000
# A reference → why its registry may not be pulled from, or None (services/registries.py).
RegistryCheck = Callable[[str], Awaitable[str | None]]


class _RefLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ImagePolicy:
    def __init__(
        self,
        runtime: Runtime,
        clock: Clock,
        max_checked: int = MAX_CHECKED,
        registry_check: RegistryCheck | None = None,
    ) -> None:
        self._runtime = runtime
        self._clock = clock
        self._registry_check = registry_check
        self._locks: dict[str, _RefLock] = {}
        self._checked: LRUCache[tuple[str, str, RegistryAuth | None], float] = LRUCache(max_checked)

    @asynccontextmanager
    async def _serialized(self, ref: str) -> AsyncIterator[None]:
        """One holder per reference at a time; the lock is dropped with its last user."""
        entry = self._locks.get(ref)
        if entry is None:
            entry = self._locks[ref] = _RefLock()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._locks[ref]

    async def ensure(self, account_id: str, ref: str, auth: RegistryAuth | None) -> None:
        """The image is present and this account may use it; raises ImagePullFailure."""
        key = (account_id, ref, auth)
        async with self._serialized(ref):  # one pull serves every waiting pod
            checked = self._checked.get(key)
            floating = ref.endswith(":" + DEFAULT_TAG) and "@" not in ref
            now = self._clock.monotonic()
            fresh = checked is not None and not (floating and now - checked > LATEST_RECHECK_SECONDS)
            if fresh and await self._runtime.has_image(ref):
                return
            if self._registry_check is not None:  # the operator's registry lists, right before the pull
                refused = await self._registry_check(ref)
                if refused:
                    raise ImagePullFailure(refused)
            await self._runtime.pull_image(ref, auth)
            self._checked[key] = self._clock.monotonic()

    def sizes(self) -> tuple[int, int]:
        """(references locked or waited on, checks remembered): for tests and metrics."""
        return len(self._locks), len(self._checked)
