"""Image pull policy: who may use an image, and when a tag is looked up again.

The first use of an image by an account with given credentials (or none) since
podyard started fetches it from the registry with them, so no one runs a private
image someone else was allowed to pull; after that, a present image is used as it
is, but a ``latest`` tag is re-resolved once it is over a minute old.
"""

from __future__ import annotations

import asyncio

from podyard.control.clock import Clock
from podyard.domain.images import DEFAULT_TAG
from podyard.domain.secrets import RegistryAuth
from podyard.runtime.protocol import Runtime

LATEST_RECHECK_SECONDS = 60


class ImagePolicy:
    def __init__(self, runtime: Runtime, clock: Clock) -> None:
        self._runtime = runtime
        self._clock = clock
        self._locks: dict[str, asyncio.Lock] = {}
        self._checked: dict[tuple[str, str, RegistryAuth | None], float] = {}

    async def ensure(self, account_id: str, ref: str, auth: RegistryAuth | None) -> None:
        """The image is present and this account may use it; raises ImagePullFailure."""
        key = (account_id, ref, auth)
        async with self._locks.setdefault(ref, asyncio.Lock()):  # one pull serves every waiting pod
            checked = self._checked.get(key)
            floating = ref.endswith(":" + DEFAULT_TAG) and "@" not in ref
            now = self._clock.monotonic()
            fresh = checked is not None and not (floating and now - checked > LATEST_RECHECK_SECONDS)
            if fresh and await self._runtime.has_image(ref):
                return
            await self._runtime.pull_image(ref, auth)
            self._checked[key] = self._clock.monotonic()
