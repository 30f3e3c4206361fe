"""The official SDK's VpcClient, as a test or a benchmark talks to podyard's VPC service through it.

VpcClient signs with the service name ``vpc`` in the credential scope, so podyard
routes its requests by the VPC table. Errors come back as ``JdError``.
"""

from __future__ import annotations

from typing import Any

import pytest

from drive.jd import REGION, Account, Jd
from podyard.store import accounts as account_store


class JdVpc(Jd):
    """A VpcClient bound to one account (credential scope ``vpc``)."""

    def __init__(self, endpoint: str, account: Account, region: str = REGION) -> None:
        super().__init__(endpoint, account, region, service="vpc")

    # The actions, spelled as a user would.
    def create_vpc(self, name: str, cidr: str | None = None, **optional: Any) -> str:
        if cidr is not None:
            optional["addressPrefix"] = cidr
        return str(self.call("createVpc", name, **optional)["vpcId"])

    def create_subnet(self, vpc_id: str, name: str, cidr: str, **optional: Any) -> str:
        return str(self.call("createSubnet", vpc_id, name, cidr, **optional)["subnetId"])

    def vpc(self, vpc_id: str) -> dict[str, Any]:
        return dict(self.call("describeVpc", vpc_id)["vpc"])

    def subnet(self, subnet_id: str) -> dict[str, Any]:
        return dict(self.call("describeSubnet", subnet_id)["subnet"])

    def quota(self, kind: str, parent: str | None = None) -> dict[str, Any]:
        optional = {"parentResourceId": parent} if parent else {}
        return dict(self.call("describeQuota", kind, **optional)["quota"])


def set_quota(server: Any, account: Account, kind: str, limit: int) -> None:
    """An account's quota override of one resource type, set in the store."""
    with server.app.ctx.db.write() as s:
        found = account_store.by_access_key(s, server.app.ctx.secret_box, account.access_key)
        assert found is not None
        account_store.set_quota(s, found.account_id, REGION, kind, limit)


def nudged(server: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Record the VPCs and pods the services nudge from now on."""
    vpcs: list[str] = []
    pods: list[str] = []
    ctx = server.app.ctx
    real_vpc, real_pod = ctx.nudge_vpc, ctx.nudge
    monkeypatch.setattr(ctx, "nudge_vpc", lambda v: (vpcs.append(v), real_vpc(v)))
    monkeypatch.setattr(ctx, "nudge", lambda p: (pods.append(p), real_pod(p)))
    return vpcs, pods
