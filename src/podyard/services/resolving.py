"""Registry names to addresses: the host's resolver with a timeout, and the few seconds'
cache that createPods' image check resolves through (services/registries.py)."""

from __future__ import annotations

import concurrent.futures
import socket
import threading
import time
from collections.abc import Callable, Sequence

from cachetools import TTLCache

# A host name → the addresses it resolves to; OSError when it does not resolve (in time).
Resolver = Callable[[str], Sequence[str]]

DEFAULT_RESOLVE_TIMEOUT = 2.0
# getaddrinfo cannot be interrupted: a lookup that outlives its timeout keeps its thread
# until the resolver gives up, so the lookups in flight are bounded.
_LOOKUPS = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="podyard-resolve")


def system_resolver(timeout: float = DEFAULT_RESOLVE_TIMEOUT) -> Resolver:
    """The host's resolver (getaddrinfo: /etc/hosts, then DNS), as Podman's would answer."""

    def resolve(host: str) -> list[str]:
        lookup = _LOOKUPS.submit(socket.getaddrinfo, host, None, type=socket.SOCK_STREAM)
        try:
            infos = lookup.result(timeout)
        except concurrent.futures.TimeoutError:
            raise OSError(f"resolving {host} took over {timeout} s") from None
        return sorted({str(info[4][0]) for info in infos})

    return resolve


class ResolveCache:
    """Answers of the createPods check, kept a few seconds: a burst of creates from one
    registry resolves its name once, not once per request (each lookup would hold the
    store's thread). Keyed by resolver too; bounded. The check right before each pull
    always asks the resolver afresh."""

    def __init__(self, ttl: float = 5.0, size: int = 1024, timer: Callable[[], float] = time.monotonic) -> None:
        self._answers: TTLCache[tuple[Resolver, str], Sequence[str] | OSError] = TTLCache(size, ttl, timer)
        self._lock = threading.Lock()

    def of(self, resolve: Resolver) -> Resolver:
        def cached(host: str) -> Sequence[str]:
            with self._lock:
                answer = self._answers.get((resolve, host))
            if answer is None:
                try:
                    answer = resolve(host)
                except OSError as e:
                    answer = e
                with self._lock:
                    self._answers[(resolve, host)] = answer
            if isinstance(answer, OSError):
                raise answer
            return answer

        return cached
