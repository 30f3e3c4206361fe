"""One API call as handlers see it: who calls, the decoded parameters, the use cases."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

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

    @property
    def account(self) -> AccountRecord:
        return self.caller.account

    @property
    def region(self) -> str:
        return self.path["regionId"]

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a use case (blocking: it talks to the database) off the event loop."""
        return await run_in_threadpool(fn, self.ctx, *args)
