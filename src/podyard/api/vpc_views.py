"""VPCs, subnets, network interfaces and quotas in the shapes of the VPC SDK's models
(``jdcloud_sdk/services/vpc/models``: Vpc, Subnet, NetworkInterface, Quota)."""

from __future__ import annotations

from typing import Any

from podyard.domain.quotas import VpcResource
from podyard.domain.records import NetworkInterfaceRecord, SubnetDetailRecord, VpcRecord
from podyard.domain.status import iso
from podyard.domain.vpcs import address_range, available_ip_count


def subnet(s: SubnetDetailRecord) -> dict[str, Any]:
    start, end = address_range(s.cidr)
    return {
        "subnetId": s.subnet_id,
        "subnetName": s.name,
        "vpcId": s.vpc_id,
        "addressPrefix": s.cidr,
        "availableIpCount": available_ip_count(s.cidr, s.used_addresses),
        "availableCidrIpCount": None,  # no reserved range (ipMaskLen 0)
        "ipMaskLen": 0,
        "description": s.description,
        "routeTableId": None,
        "aclId": None,
        "startIp": start,
        "endIp": end,
        "ipv6StartIp": None,
        "ipv6EndIp": None,
        "createdTime": iso(s.created_at),
        "subnetType": "standard",
        "az": "",  # a standard subnet is regional
        "publicSubnet": False,  # no route to the internet, no elastic IP priority
        "tags": [],
        "resourceGroupId": None,
        "type": "normal",
        "hpcClusterId": None,
    }


def vpc(v: VpcRecord) -> dict[str, Any]:
    return {
        "vpcId": v.vpc_id,
        "addressPrefix": v.cidr,
        "description": v.description,
        "vpcName": v.name,
        "aclIds": [],
        "routeTableIds": [],
        "subnets": [subnet(s) for s in v.subnets],
        "createdTime": iso(v.created_at),
        "vpcPolicyId": None,
        "tags": [],
        "resourceGroupId": None,
    }


def _private_ip(address: str, subnet_id: str, eip: tuple[str, str] | None = None) -> dict[str, Any]:
    return {
        "privateIpAddress": address,
        "elasticIpId": eip[0] if eip else None,
        "elasticIpAddress": eip[1] if eip else None,
        "subnetId": subnet_id,
    }


def network_interface(n: NetworkInterfaceRecord) -> dict[str, Any]:
    return {
        "networkInterfaceName": n.name,
        "networkInterfaceId": n.network_interface_id,
        "azType": "standard",
        "az": "",  # the SDK: "" for a standard zone
        "role": "Primary",
        "macAddress": n.mac_address,
        "vpcId": n.vpc_id,
        "subnetId": n.subnet_id,
        "networkSecurityGroupIds": list(n.security_group_ids),
        "sanityCheck": n.sanity_check,
        "primaryIp": _private_ip(n.primary_ip, n.subnet_id, n.elastic_ip),
        "secondaryIps": [_private_ip(ip, n.subnet_id) for ip in n.secondary_ips],
        "secondaryCidrs": [],
        "secondaryCidrsEx": [],
        "instanceType": "pod",
        "instanceId": n.pod_id,
        "instanceOwnerId": n.account_id,
        "deviceIndex": 1,
        "description": n.description,
        "attachmentStatus": "attached",
        "networkInterfaceStatus": "enabled",
        "createdTime": iso(n.created_at),
        "tags": [],
        "resourceGroupId": None,
        "connectionTrackingConfiguration": None,
    }


def quota(resource: VpcResource, parent: str | None, limit: int, count: int) -> dict[str, Any]:
    return {"type": resource.value, "parentResourceId": parent, "maxLimit": limit, "count": count}
