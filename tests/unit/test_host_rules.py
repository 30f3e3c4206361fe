"""The host's nftables rule set holds every VPC's loopback elastic IPs. VPCs applied at
once (a restart replugs them all) must not let an older set land last."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podyard.network import dataplane
from podyard.network.dataplane import Dataplane
from podyard.network.names import Names


def test_the_host_rules_loaded_last_hold_every_vpcs_elastic_ips(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []  # host rule sets, in the order they took effect
    first_running, release = asyncio.Event(), asyncio.Event()

    async def run(*args: str, stdin: str | None = None, **_: Any) -> str:
        if args[:2] == ("nft", "-f"):
            assert stdin is not None
            if not first_running.is_set():  # the first load is slow: its nft ends last
                first_running.set()
                await release.wait()
            loaded.append(stdin)
        return ""

    monkeypatch.setattr(dataplane, "run", run)

    async def scenario() -> None:
        dp = Dataplane(Names("t3st"), "10.228.0.0/16")
        dp._host_eips["vpc-a"] = [("127.101.0.1", "10.228.0.1")]
        first = asyncio.create_task(dp.apply_host())
        await first_running.wait()
        dp._host_eips["vpc-b"] = [("127.101.0.2", "10.228.0.2")]
        second = asyncio.create_task(dp.apply_host())
        await asyncio.sleep(0)  # the second runs as far as it can
        release.set()
        await asyncio.gather(first, second)

    asyncio.run(scenario())
    assert "127.101.0.1" in loaded[-1] and "127.101.0.2" in loaded[-1], loaded[-1]
