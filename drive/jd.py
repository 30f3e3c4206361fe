"""The official JD Cloud SDK, as a test or a benchmark talks to podyard through it.

Each call builds the SDK's own request class and sends it with ``PodClient``;
errors come back as ``JdError`` carrying the envelope's code, status and message.
Parameters may be SDK model objects or plain dicts (to send what the SDK's
classes would not build, e.g. wrong types).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from jdcloud_sdk.core.config import Config
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.services.pod.client.PodClient import PodClient
from jdcloud_sdk.services.pod.models.CloudDiskSpec import CloudDiskSpec
from jdcloud_sdk.services.pod.models.ContainerSpec import ContainerSpec
from jdcloud_sdk.services.pod.models.EnvSpec import EnvSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceAttachmentSpec import NetworkInterfaceAttachmentSpec
from jdcloud_sdk.services.pod.models.NetworkInterfaceSpec import NetworkInterfaceSpec
from jdcloud_sdk.services.pod.models.PodSpec import PodSpec
from jdcloud_sdk.services.vpc.client.VpcClient import VpcClient

REGION = "cn-north-1"


class JdError(Exception):
    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(f"{code} {status}: {message}")
        self.code = code
        self.status = status
        self.message = message


@dataclass
class Account:
    access_key: str
    secret_key: str
    subnet_id: str
    security_group_id: str
    subnet_cidr: str
    vpc_id: str

    @classmethod
    def from_creds(cls, c: dict[str, str]) -> Account:
        return cls(c["accessKey"], c["secretKey"], c["subnetId"], c["securityGroupId"], c["subnetCidr"], c["vpcId"])


def _request_class(action: str, service: str = "pod") -> tuple[Any, Any]:
    name = action[0].upper() + action[1:]
    module = importlib.import_module(f"jdcloud_sdk.services.{service}.apis.{name}Request")
    return getattr(module, f"{name}Request"), getattr(module, f"{name}Parameters")


class Jd:
    """A PodClient bound to one account (``service="vpc"``: a VpcClient)."""

    def __init__(
        self,
        endpoint: str,
        account: Account,
        region: str = REGION,
        timeout: int = 60,
        service: str = "pod",
        scheme: str = "http",
    ) -> None:
        self.account = account
        self.region = region
        self.service = service
        client_cls = VpcClient if service == "vpc" else PodClient
        self.client = client_cls(
            Credential(account.access_key, account.secret_key),
            Config(endpoint, scheme=scheme, timeout=timeout),
            Logger(0),
        )

    def send(self, request: Any) -> Any:
        resp = self.client.send(request)
        if resp.error is not None:
            raise JdError(resp.error.code, resp.error.status, resp.error.message)
        return resp.result

    def call(self, action: str, *args: Any, **optional: Any) -> Any:
        """``call("describePod", pod_id)``: the SDK's ``XxxParameters(regionId, *args)``,
        optional parameters through its setters."""
        request_cls, params_cls = _request_class(action, self.service)
        params = params_cls(self.region, *args)
        for key, value in optional.items():
            getattr(params, "set" + key[0].upper() + key[1:])(value)
        return self.send(request_cls(params))

    def raw(self, action: str, parameters: dict[str, Any]) -> Any:
        """Send parameters as a plain dict (regionId added): anything JSON can hold."""
        request_cls, _ = _request_class(action, self.service)
        return self.send(request_cls({"regionId": self.region, **parameters}))

    # The actions, spelled as a user would.
    def create_pods(self, spec: Any, max_count: int = 1, client_token: str | None = None) -> list[str]:
        opt = {"clientToken": client_token} if client_token else {}
        return list(self.call("createPods", spec, max_count, **opt)["podIds"])

    def pod(self, pod_id: str) -> dict[str, Any]:
        return dict(self.call("describePod", pod_id)["pod"])

    def pods(self, **optional: Any) -> dict[str, Any]:
        return dict(self.call("describePods", **optional))


def container(
    name: str = "app",
    image: str = "busybox",
    command: list[str] | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    **more: Any,
) -> ContainerSpec:
    return ContainerSpec(
        name=name,
        systemDisk=more.pop("systemDisk", CloudDiskSpec(category="local")),
        image=image,
        command=command,
        args=args,
        env=[EnvSpec(k, v) for k, v in (env or {}).items()] or None,
        **more,
    )


def pod_spec(
    account: Account,
    name: str,
    containers: list[ContainerSpec],
    instance_type: str = "g.s1.micro",
    az: str = "cn-north-1a",
    primary_ip: str | None = None,
    secondary_ips: list[str] | None = None,
    secondary_count: int | None = None,
    **more: Any,
) -> PodSpec:
    nic = NetworkInterfaceSpec(
        account.subnet_id,
        securityGroups=[account.security_group_id],
        primaryIpAddress=primary_ip,
        secondaryIpAddresses=secondary_ips,
        secondaryIpCount=secondary_count,
    )
    return PodSpec(
        name=name,
        instanceType=instance_type,
        az=az,
        containers=containers,
        primaryNetworkInterface=NetworkInterfaceAttachmentSpec(nic),
        **more,
    )


def spec_dict(spec: Any) -> dict[str, Any]:
    """An SDK model as the JSON the SDK sends, to edit before a raw call."""
    import json

    from jdcloud_sdk.core.parameterbuilder import ParametersEncoder

    return dict(json.loads(json.dumps(spec, cls=ParametersEncoder)))
