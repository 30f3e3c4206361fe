"""One API call as handlers see it: who calls, the decoded parameters, the use cases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from podyard.api.auth import Caller
from podyard.domain.records import AccountRecord
from podyard.services.context import ServiceContext

T = TypeVar("T")


@dataclass
class Call:
    request_id: str
    caller: Caller
    path: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any]
    ctx: ServiceContext
    # Set when podyard shuts down: open streams say so and close.
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def account(self) -> AccountRecord:
        return self.caller.account

    @property
    def region(self) -> str:
        return self.path["regionId"]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a use case (blocking: it talks to the database) off the event loop."""
        return await self.ctx.db.run(fn, self.ctx, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a read-only use case. On SQLite a read is a few hundred microseconds of
        local I/O that never waits on writers (WAL): done in place, it costs less than
        the hop to a thread; on a networked database it goes to a thread."""
        if self.ctx.db.is_sqlite:
            return fn(self.ctx, *args)
        return await self.ctx.db.run(fn, self.ctx, *args)
