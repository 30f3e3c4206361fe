"""Network attachment: a starting pod gets its interface in its VPC, a stopped or
deleted one loses it, and each VPC's host network follows the store (security group
rules, elastic IPs, subnets) whenever a service says a VPC changed.

Without a dataplane (the fake runtime's unit tests) every call is a no-op.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

from podyard.control.backoff import Backoff
from podyard.control.failures import PermanentFailure
from podyard.domain.netplan import Port, VpcPlan
from podyard.domain.records import PodRecord
from podyard.network.commands import NetworkFailure
from podyard.network.dataplane import Dataplane
from podyard.runtime.protocol import Runtime, RuntimeFailure
from podyard.store.observed import ObservedStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pools:
    elastic_ip: str
    inner: str


class PodNetworks:
    def __init__(self, store: ObservedStore, runtime: Runtime, dataplane: Dataplane | None, pools: Pools) -> None:
        self._store = store
        self._runtime = runtime
        self._dp = dataplane
        self._pools = pools
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        # Each VPC's plan as last loaded into its namespace (bounded by the VPCs there are).
        self._loaded: dict[str, VpcPlan] = {}
        # A VPC whose network fails to update is retried after 0.5 s, 1 s, 2 s ... 30 s.
        self._retries = Backoff(0.5, 30.0)

    async def _plan(self, vpc_id: str) -> VpcPlan | None:
        return await self._store.db.run(self._store.vpc_plan, vpc_id, self._pools.elastic_ip, self._pools.inner)

    async def plug(self, pod: PodRecord) -> None:
        """Start the pod's sandbox and give it its interface, with its VPC's rules."""
        if self._dp is None:
            return
        # The rules load (under the VPC's lock) while the sandbox starts; both are done
        # before the port is made, so it never runs unguarded. The port is the pod's own:
        # pods of one VPC get theirs at the same time.
        pid, port = await asyncio.gather(
            self._runtime.start_sandbox(pod.pod_id), self._guard(pod), return_exceptions=True
        )
        try:
            if isinstance(port, BaseException):
                raise port
            if isinstance(pid, BaseException):
                raise pid
            await self._dp.attach(pod.vpc_id, port, pid)
        except NetworkFailure as e:
            raise RuntimeFailure(f"attaching the pod's interface: {e.message}", reason="NetworkError") from e

    async def _guard(self, pod: PodRecord) -> Port:
        """The VPC's rules, with the pod's port's, loaded; the port."""
        assert self._dp is not None
        async with self._dp.lock(pod.vpc_id):
            # A new pod's port is usually loaded already: createPods nudged its VPC.
            loaded = self._loaded.get(pod.vpc_id)
            if loaded is not None and (port := loaded.port(pod.pod_id)) is not None:
                return port
            plan = await self._plan(pod.vpc_id)
            port = plan.port(pod.pod_id) if plan else None
            if plan is None or port is None:
                raise PermanentFailure("NetworkMissing", f"the pod's VPC {pod.vpc_id} or subnet no longer exists")
            await self._apply(plan)
            return port

    async def _apply(self, plan: VpcPlan) -> None:
        assert self._dp is not None
        self._loaded.pop(plan.vpc_id, None)
        await self._dp.apply(plan)
        self._loaded[plan.vpc_id] = plan

    async def ensure(self, pod: PodRecord) -> None:
        """A running pod that lost its interface (its sandbox was restarted) gets it back."""
        if self._dp is not None and not self._dp.attached(pod.vpc_id, pod.pod_id):
            await self.plug(pod)

    async def unplug(self, pod: PodRecord) -> None:
        if self._dp is None:
            return
        async with self._dp.lock(pod.vpc_id):
            await self._dp.detach(pod.vpc_id, pod.pod_id)
        self.nudge(pod.vpc_id)

    # -- VPCs --

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._worker = asyncio.create_task(self._follow(), name="vpc-networks")

    async def stop(self) -> None:
        if self._worker:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    def nudge(self, vpc_id: str) -> None:
        """Bring the VPC's host network up to date with the store (thread-safe)."""
        if self._dp is None or self._loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._dirty.add(vpc_id)
            self._wake.set()
        else:
            self._loop.call_soon_threadsafe(self.nudge, vpc_id)

    async def _follow(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            for vpc_id in sorted(dirty):
                try:
                    await self.sync(vpc_id)
                    self._retries.succeeded(vpc_id)
                except Exception:
                    loop = asyncio.get_running_loop()
                    delay = self._retries.failed(vpc_id, loop.time()) - loop.time()
                    log.exception("vpc %s: updating its network failed; retrying in %.1f s", vpc_id, delay)
                    loop.call_later(delay, self.nudge, vpc_id)

    async def sync(self, vpc_id: str) -> None:
        assert self._dp is not None
        async with self._dp.lock(vpc_id):
            plan = await self._plan(vpc_id)
            if plan is None:
                self._loaded.pop(vpc_id, None)
                await self._dp.remove_vpc(vpc_id)
            elif plan.ports or vpc_id in await self._dp.vpcs():
                await self._apply(plan)

    async def adopt(self, pod_vpcs: dict[str, str]) -> None:
        """After a start of podyard: remove the networks of VPCs that are gone, learn which
        pods still have their interface, and bring every VPC's network up to date."""
        if self._dp is None:
            return
        await self._dp.sweep(await self._store.db.run(self._store.vpc_ids))
        by_vpc: dict[str, set[str]] = {}
        for pod_id, vpc_id in pod_vpcs.items():
            by_vpc.setdefault(vpc_id, set()).add(pod_id)
        present = await self._dp.vpcs()
        for vpc_id, pod_ids in by_vpc.items():
            if vpc_id in present:
                await self._dp.learn(vpc_id, pod_ids)
        for vpc_id in present | set(by_vpc):
            self.nudge(vpc_id)
