"""The official SDK's VpcClient, as a test talks to podyard's VPC service through it.

VpcClient signs with the service name ``vpc`` in the credential scope, so podyard
routes its requests by the VPC table. Errors come back as ``JdError``.
"""

from __future__ import annotations

import importlib
from typing import Any

from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.services.vpc.client.VpcClient import VpcClient

from tests.jd import REGION, Account, JdError


def _request_class(action: str) -> tuple[Any, Any]:
    name = action[0].upper() + action[1:]
    module = importlib.import_module(f"jdcloud_sdk.services.vpc.apis.{name}Request")
    return getattr(module, f"{name}Request"), getattr(module, f"{name}Parameters")


class JdVpc:
    """A VpcClient bound to one account."""

    def __init__(self, endpoint: str, account: Account, region: str = REGION) -> None:
        self.account = account
        self.region = region
        self.client = VpcClient(
            Credential(account.access_key, account.secret_key), Config(endpoint, scheme="http", timeout=60), Logger(0)
        )

    def send(self, request: Any) -> Any:
        resp = self.client.send(request)
        if resp.error is not None:
            raise JdError(resp.error.code, resp.error.status, resp.error.message)
        return resp.result

    def call(self, action: str, *args: Any, **optional: Any) -> Any:
        """``call("describeVpc", vpc_id)``: the SDK's ``XxxParameters(regionId, *args)``,
        optional parameters through its setters."""
        request_cls, params_cls = _request_class(action)
        params = params_cls(self.region, *args)
        for key, value in optional.items():
            getattr(params, "set" + key[0].upper() + key[1:])(value)
        return self.send(request_cls(params))

    def raw(self, action: str, parameters: dict[str, Any]) -> Any:
        """Send parameters as a plain dict (regionId added): anything JSON can hold."""
        request_cls, _ = _request_class(action)
        return self.send(request_cls({"regionId": self.region, **parameters}))

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
