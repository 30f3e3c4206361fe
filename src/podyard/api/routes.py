"""The routing table: every route of the pod service exactly as the SDK builds it.

Several JD services share one endpoint; the service in the signature's
credential scope picks the table. Actions the SDK knows and podyard does not
serve yet answer 501, loudly, never a fake success.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from podyard.api import disks, elastic_ips, pods, secrets, security_groups, streams, vpc
from podyard.api.call import Call
from podyard.domain.errors import NotImplementedAction

Handler = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    action: str
    websocket: bool = False  # the handler takes (call, websocket) after an upgrade
    served: bool = True  # False: an SDK action podyard answers 501 (not yet, or not offered)

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """``/regions/{regionId}/pods/{podId}:startPod`` → a regex; a parameter holds no '/',
        ':' or NUL (api/params.py)."""
        parts = re.split(r"\{(\w+)\}", self.template)
        regex = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/:\\x00]+)" for i, p in enumerate(parts))
        return re.compile(f"^/v1{regex}$")


def _not_yet(action: str, arrives: str) -> Handler:
    async def handler(call: Call) -> Any:
        raise NotImplementedAction(f"{action} is not served by podyard yet ({arrives})")

    return handler


def _r(method: str, template: str, handler: Handler, action: str | None = None) -> Route:
    return Route(method, template, handler, action or _camel(handler.__name__))


def _ws(template: str, handler: Handler) -> Route:
    return Route("GET", template, handler, _camel(handler.__name__), websocket=True)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _later(method: str, template: str, action: str, arrives: str) -> Route:
    return Route(method, template, _not_yet(action, arrives), action, served=False)


CONTAINER = "/regions/{regionId}/pods/{podId}/containers/{containerName}"
SG = "/regions/{regionId}/networkSecurityGroups/{networkSecurityGroupId}"

POD_ROUTES: list[Route] = [
    _r("POST", "/regions/{regionId}/pods:checkPodName", pods.check_pod_name),
    _r("POST", "/regions/{regionId}/pods", pods.create_pods),
    _r("GET", "/regions/{regionId}/pods", pods.describe_pods),
    _r("GET", "/regions/{regionId}/podsStatus", pods.describe_pods_status),
    _r("GET", "/regions/{regionId}/pods/{podId}", pods.describe_pod),
    _r("DELETE", "/regions/{regionId}/pods/{podId}", pods.delete_pod),
    _r("POST", "/regions/{regionId}/pods/{podId}:startPod", pods.start_pod),
    _r("POST", "/regions/{regionId}/pods/{podId}:stopPod", pods.stop_pod),
    _r("PATCH", "/regions/{regionId}/pods/{podId}:modifyPodAttribute", pods.modify_pod_attribute),
    _r("POST", "/regions/{regionId}/pods/{podId}:rebuild", pods.rebuild_pod),
    _r("POST", "/regions/{regionId}/pods/{podId}:resize", pods.resize_pod),
    _r("GET", CONTAINER, pods.describe_container),
    _r("GET", "/regions/{regionId}/quotas", pods.describe_quota),
    _r("GET", "/regions/{regionId}/instanceTypes", pods.describe_instance_types),
    _r("POST", "/regions/{regionId}/pods/{podId}:associateElasticIp", elastic_ips.associate_elastic_ip),
    _r("POST", "/regions/{regionId}/pods/{podId}:disassociateElasticIp", elastic_ips.disassociate_elastic_ip),
    _r("GET", f"{CONTAINER}:getContainerLogs", streams.get_container_logs),
    _r("POST", f"{CONTAINER}:execCreate", streams.exec_create),
    _ws(f"{CONTAINER}:execStart", streams.exec_start),
    _r("GET", f"{CONTAINER}:execGetExitCode", streams.exec_get_exit_code),
    _ws(f"{CONTAINER}:attach", streams.attach),
    _r("POST", f"{CONTAINER}:resizeTTY", streams.resize_tty, "resizeTTY"),
    _r("POST", "/regions/{regionId}/secrets", secrets.create_secret),
    _r("GET", "/regions/{regionId}/secrets", secrets.describe_secrets),
    _r("GET", "/regions/{regionId}/secrets/{name}", secrets.describe_secret),
    _r("DELETE", "/regions/{regionId}/secrets/{name}", secrets.delete_secret),
    *(
        _later(method, template, action, "not offered")
        for method, template, action in (
            ("POST", "/regions/{regionId}/configFiles", "createConfigFile"),
            ("GET", "/regions/{regionId}/configFiles/{name}", "describeConfigFile"),
            ("DELETE", "/regions/{regionId}/configFiles/{name}", "deleteConfigFile"),
            ("POST", "/regions/{regionId}/configFiles/{name}:update", "updateConfigFile"),
            ("POST", "/regions/{regionId}/imageCache", "createImageCache"),
            ("POST", "/regions/{regionId}/imageCaches", "createImageCaches"),
            ("GET", "/regions/{regionId}/imageCaches", "describeImageCaches"),
            ("GET", "/regions/{regionId}/imageCache/{imageCacheId}", "describeImageCache"),
            ("DELETE", "/regions/{regionId}/imageCache/{imageCacheId}", "deleteImageCache"),
            ("PATCH", "/regions/{regionId}/imageCache/{imageCacheId}:update", "updateImageCache"),
            ("GET", "/regions/{regionId}/imageCache:getMostSuitable", "getMostSuitableImageCache"),
            ("POST", "/regions/{regionId}/podTemplates", "createPodTemplate"),
            ("GET", "/regions/{regionId}/podTemplates", "describePodTemplates"),
            ("GET", "/regions/{regionId}/podTemplates/{podTemplateId}", "describePodTemplate"),
            ("PATCH", "/regions/{regionId}/podTemplates/{podTemplateId}", "updatePodTemplate"),
            ("DELETE", "/regions/{regionId}/podTemplates/{podTemplateId}", "deletePodTemplate"),
            ("GET", "/regions/{regionId}/podTemplates/{podTemplateId}:verify", "verifyPodTemplate"),
        )
    ),
]

# The VPC service (credential scope ``vpc``). Two helpers fill it in parallel: keep to
# your own section.
VPC_ROUTES: list[Route] = [
    # -- VPCs, subnets, network interfaces, quotas --
    # The VPC SDK ends its collection paths with '/' ('/regions/{regionId}/vpcs/'); the
    # routes match that exactly, so /quotas/ (vpc) and /quotas (pod) never meet.
    _r("POST", "/regions/{regionId}/vpcs/", vpc.create_vpc),
    _r("GET", "/regions/{regionId}/vpcs/", vpc.describe_vpcs),
    _r("GET", "/regions/{regionId}/vpcs/{vpcId}", vpc.describe_vpc),
    _r("PATCH", "/regions/{regionId}/vpcs/{vpcId}", vpc.modify_vpc),
    _r("DELETE", "/regions/{regionId}/vpcs/{vpcId}", vpc.delete_vpc),
    _r("POST", "/regions/{regionId}/subnets/", vpc.create_subnet),
    _r("GET", "/regions/{regionId}/subnets/", vpc.describe_subnets),
    _r("GET", "/regions/{regionId}/subnets/{subnetId}", vpc.describe_subnet),
    _r("PATCH", "/regions/{regionId}/subnets/{subnetId}", vpc.modify_subnet),
    _r("DELETE", "/regions/{regionId}/subnets/{subnetId}", vpc.delete_subnet),
    _r("GET", "/regions/{regionId}/networkInterfaces/", vpc.describe_network_interfaces),
    _r("GET", "/regions/{regionId}/networkInterfaces/{networkInterfaceId}", vpc.describe_network_interface),
    _later(
        "POST",
        "/regions/{regionId}/networkInterfaces/",
        "createNetworkInterface",
        "a pod has its primary interface only",
    ),
    _later(
        "DELETE",
        "/regions/{regionId}/networkInterfaces/{networkInterfaceId}",
        "deleteNetworkInterface",
        "a primary interface goes with its pod",
    ),
    _r("GET", "/regions/{regionId}/quotas/", vpc.describe_quota),
    # -- security groups, elastic IPs --
    _r("POST", "/regions/{regionId}/networkSecurityGroups/", security_groups.create_network_security_group),
    _r("GET", "/regions/{regionId}/networkSecurityGroups/", security_groups.describe_network_security_groups),
    _r("GET", SG, security_groups.describe_network_security_group),
    _r("PATCH", SG, security_groups.modify_network_security_group),
    _r("DELETE", SG, security_groups.delete_network_security_group),
    _r("POST", f"{SG}:addNetworkSecurityGroupRules", security_groups.add_network_security_group_rules),
    _r("POST", f"{SG}:modifyNetworkSecurityGroupRules", security_groups.modify_network_security_group_rules),
    _r("POST", f"{SG}:removeNetworkSecurityGroupRules", security_groups.remove_network_security_group_rules),
    _later(
        "GET",
        f"{SG}/networkSecurityGroupRules",
        "describeNetworkSecurityGroupRules",
        "describeNetworkSecurityGroup lists a group's rules",
    ),
    _r("POST", "/regions/{regionId}/elasticIps/", elastic_ips.create_elastic_ips),
    _r("GET", "/regions/{regionId}/elasticIps/", elastic_ips.describe_elastic_ips),
    _r("GET", "/regions/{regionId}/elasticIps/{elasticIpId}", elastic_ips.describe_elastic_ip),
    _r("DELETE", "/regions/{regionId}/elasticIps/{elasticIpId}", elastic_ips.delete_elastic_ip),
    _r("PATCH", "/regions/{regionId}/elasticIps/{elasticIpId}", elastic_ips.modify_elastic_ip),
    *(
        _later(method, template, action, "podyard has one elastic IP pool, set by its operator")
        for method, template, action in (
            ("POST", "/regions/{regionId}/elasticIpPool/", "createElasticIpPool"),
            ("GET", "/regions/{regionId}/elasticIpPool/", "describeElasticIpPools"),
            ("GET", "/regions/{regionId}/elasticIpPool/{elasticIpPoolId}", "describeElasticIpPool"),
            ("PATCH", "/regions/{regionId}/elasticIpPool/{elasticIpPoolId}", "modifyElasticIpPool"),
            ("DELETE", "/regions/{regionId}/elasticIpPool/{elasticIpPoolId}", "deleteElasticIpPool"),
        )
    ),
    _later("POST", "/regions/{regionId}/elasticips:export", "exportElasticIps", "not offered"),
    *(
        _later(
            "POST",
            f"/regions/{{regionId}}/networkInterfaces/{{networkInterfaceId}}:{action}",
            action,
            f"use the pod service's {action} on the interface's pod",
        )
        for action in ("associateElasticIp", "disassociateElasticIp")
    ),
]

# The disk service (credential scope ``disk``): its SDK's paths have no trailing slash;
# its /quotas is told from the pod service's by the scope.
DISK = "/regions/{regionId}/disks/{diskId}"
SNAPSHOT = "/regions/{regionId}/snapshots/{snapshotId}"
DISK_ROUTES: list[Route] = [
    _r("POST", "/regions/{regionId}/disks", disks.create_disks),
    _r("GET", "/regions/{regionId}/disks", disks.describe_disks),
    _r("GET", DISK, disks.describe_disk),
    _r("DELETE", DISK, disks.delete_disk),
    _r("POST", "/regions/{regionId}/snapshots", disks.create_snapshot),
    _r("GET", "/regions/{regionId}/snapshots", disks.describe_snapshots),
    _r("GET", SNAPSHOT, disks.describe_snapshot),
    _r("DELETE", SNAPSHOT, disks.delete_snapshot),
    _r("GET", "/regions/{regionId}/quotas", disks.describe_quota),
    *(
        _later(method, template, action, "not offered")
        for method, template, action in (
            ("PATCH", DISK, "modifyDiskAttribute"),
            ("POST", f"{DISK}:extend", "extendDisk"),
            ("POST", f"{DISK}:restore", "restoreDisk"),
            ("POST", f"{DISK}:recover", "recoverDisk"),
            ("POST", "/regions/{regionId}/disks:ignoreServiceCode", "describeVolumesIgnoreServiceCode"),
            ("PATCH", SNAPSHOT, "modifySnapshotAttribute"),
            ("DELETE", "/regions/{regionId}/snapshots", "deleteSnapshots"),
            ("GET", "/regions/{regionId}/snapshots:chain", "describeSnapshotChain"),
            ("GET", "/regions/{regionId}/snapshots:capacity", "describeSnapshotsCapacity"),
            ("GET", "/regions/{regionId}/soldout", "describeSoldout"),
        )
    ),
    *(
        _later(method, template, action, "snapshot policies are not offered")
        for method, template, action in (
            ("POST", "/regions/{regionId}/snapshotPolicy", "createSnapshotPolicy"),
            ("PATCH", "/regions/{regionId}/snapshotPolicy/{policyId}", "updateSnapshotPolicy"),
            ("DELETE", "/regions/{regionId}/snapshotPolicy/{policyId}", "deleteSnapshotPolicy"),
            ("POST", "/regions/{regionId}/snapshotPolicies:apply", "applySnapshotPolicies"),
            ("POST", "/regions/{regionId}/snapshotPolicies:describe", "describeSnapshotPolicies"),
            ("POST", "/regions/{regionId}/snapPolicies:describe", "describeSnapPolices"),
            ("POST", "/regions/{regionId}/snapshotPolicyDiskRelations:describe", "describeSnapshotPolicyDiskRelations"),
        )
    ),
]

# The services that share this endpoint, by the name in the credential scope.
SERVICES: dict[str, list[Route]] = {"pod": POD_ROUTES, "vpc": VPC_ROUTES, "disk": DISK_ROUTES}


def match(service: str, method: str, path: str) -> tuple[Route | None, dict[str, str], list[str]]:
    """The route for a request, its path parameters, and the methods the path allows."""
    allowed: list[str] = []
    for route in SERVICES.get(service, []):
        m = route.pattern.match(path)
        if m is None:
            continue
        if route.method == method:
            return route, m.groupdict(), []
        allowed.append(route.method)
    return None, {}, allowed
