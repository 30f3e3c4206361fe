"""createPods' PodSpec: network, volumes, DNS, billing, and the containers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from podyard.domain import disks, elastic_ips, naming, network
from podyard.domain.instance_types import INSTANCE_TYPES
from podyard.domain.quotas import MAX_GROUPS_PER_INTERFACE
from podyard.domain.resources import resources_error
from podyard.domain.specs.containers import ContainerSpec
from podyard.domain.specs.wire import Dns1123Label, Flag, Hostname, IPv4, WireModel, _checked, field_error

DESCRIPTION_MAX = 256
# Resolver options a Linux resolv.conf knows; only these three take a value.
RESOLVER_OPTIONS = frozenset(
    "ndots timeout attempts rotate no-check-names inet6 edns0 single-request "
    "single-request-reopen no-tld-query use-vc no-reload trust-ad".split()
)
VALUED_RESOLVER_OPTIONS = frozenset({"ndots", "timeout", "attempts"})

Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]
DiskName = Annotated[str, AfterValidator(_checked(disks.name_error))]


class PodDnsConfigOptionSpec(WireModel):
    name: Annotated[str, Field(min_length=1, max_length=63)]
    value: Annotated[str, Field(max_length=100)] | None = None

    @model_validator(mode="after")
    def _resolver_rules(self) -> PodDnsConfigOptionSpec:
        if self.name not in RESOLVER_OPTIONS:
            raise ValueError(f"option {self.name!r} is not a Linux resolver option")
        if self.value:
            if self.name not in VALUED_RESOLVER_OPTIONS:
                raise ValueError("only timeout, attempts and ndots take a value")
            if not self.value.isdigit():
                raise ValueError(f"the value of {self.name} must be a whole number")
        return self


def _searches(v: list[str] | None) -> list[str] | None:
    if v:
        if sum(len(s) for s in v) > 256:
            raise ValueError("search domains must total at most 256 characters")
        for s in v:
            if naming.hostname_error(s.rstrip(".")):
                raise ValueError(f"search domain {s!r} is not a valid domain name")
    return v


def _dedupe(v: list[str] | None) -> list[str] | None:
    return list(dict.fromkeys(v)) if v else v


class DnsConfigSpec(WireModel):
    nameservers: Annotated[list[IPv4], Field(max_length=20), AfterValidator(_dedupe)] | None = None
    searches: Annotated[list[str], Field(max_length=6), AfterValidator(_searches)] | None = None
    options: Annotated[list[PodDnsConfigOptionSpec], Field(max_length=10)] | None = None


class LogConfigSpec(WireModel):
    log_driver: Literal["default"] | None = None


class HostAliasSpec(WireModel):
    hostnames: Annotated[list[Hostname], Field(min_length=1, max_length=10)]
    ip: IPv4


class JDCloudVolumeSourceSpec(WireModel):
    """A pod's cloud disk: a new one (diskType, sizeGB), one made from a snapshot
    (snapshotId, diskType, sizeGB at least the snapshot's), or an existing one (volumeId),
    formatted only with formatVolume. fsType: xfs unless given (an existing disk: the
    filesystem it holds). The account's snapshot and disk are checked by services/."""

    volume_id: Annotated[str, Field(min_length=1)] | None = None
    name: DiskName | None = None
    snapshot_id: Annotated[str, Field(min_length=1)] | None = None
    disk_type: str | None = None
    size_gb: int | None = Field(None, alias="sizeGB")
    fs_type: Literal["xfs", "ext4"] | None = None
    format_volume: Flag | None = None
    iops: int | None = None
    auto_delete: Flag | None = None

    @model_validator(mode="after")
    def _rules(self) -> JDCloudVolumeSourceSpec:
        if self.volume_id:
            if self.snapshot_id:
                raise field_error("snapshotId", "a volume is an existing disk (volumeId) or one made from a snapshot")
            for field in ("name", "disk_type", "size_gb", "iops"):
                if getattr(self, field) is not None:
                    alias = type(self).model_fields[field].alias or field
                    raise field_error(alias, "an existing disk (volumeId) keeps its own; leave it out")
            return self
        if self.disk_type is None:
            raise field_error("diskType", "a new disk needs diskType: " + ", ".join(disks.DATA_DISK_RULES))
        error = disks.type_error(self.disk_type, disks.DATA_DISK_RULES)
        if error:
            raise field_error("diskType", error)
        if self.size_gb is None:
            if self.snapshot_id:
                return self  # the snapshot's size, and the iops rule with it, once services know it
            raise field_error("sizeGB", "a new disk needs sizeGB")
        error = disks.size_error(self.disk_type, self.size_gb, disks.DATA_DISK_RULES)
        if error:
            raise field_error("sizeGB", error)
        error = disks.iops_error(self.disk_type, self.size_gb, self.iops)
        if error:
            raise field_error("iops", error)
        return self


class VolumeSpec(WireModel):
    unsupported = {
        "cfs": "CFS volumes are not offered",
        "config_file": "configFile volumes are not offered",
        "empty_dir": "emptyDir volumes are not offered",
    }

    name: Dns1123Label
    jdcloud_disk: JDCloudVolumeSourceSpec
    cfs: dict | None = None
    config_file: dict | None = None
    empty_dir: dict | None = None


class ChargeSpec(WireModel):
    unsupported = {
        "auto_renew": "prepaid pods are not renewed automatically",
        "auto_change_charge_mode": "charge modes are not changed automatically",
        "auto_change_charge_mode_date": "charge modes are not changed automatically",
        "buy_scenario": "buy scenarios are not offered",
    }

    charge_mode: Literal["prepaid_by_duration", "postpaid_by_duration"] | None = None
    charge_unit: Literal["month", "year"] | None = None
    charge_duration: int | None = None
    auto_renew: Flag | None = None
    auto_change_charge_mode: Flag | None = None
    auto_change_charge_mode_date: str | None = None
    buy_scenario: str | None = None

    @model_validator(mode="after")
    def _rules(self) -> ChargeSpec:
        if self.charge_mode == "prepaid_by_duration":
            unit = self.charge_unit or "month"
            allowed = range(1, 10) if unit == "month" else range(1, 4)
            if self.charge_duration is None or self.charge_duration not in allowed:
                raise ValueError("chargeDuration must be 1-9 months or 1-3 years for prepaid_by_duration")
        elif self.charge_unit is not None or self.charge_duration is not None:
            raise ValueError("chargeUnit and chargeDuration apply to prepaid_by_duration only")
        return self


class ElasticIpSpec(WireModel):
    """createPods' elasticIp: one elastic IP per pod, on its primary IP."""

    bandwidth_mbps: Annotated[int, Field(ge=elastic_ips.BANDWIDTH_MIN, le=elastic_ips.POD_BANDWIDTH_MAX)]
    provider: Literal["bgp", "no_bgp", "BGP", "NO_BGP"] | None = None
    charge_spec: ChargeSpec | None = None

    @model_validator(mode="after")
    def _postpaid(self) -> ElasticIpSpec:
        if self.charge_spec and self.charge_spec.charge_mode == "prepaid_by_duration":
            raise ValueError("chargeSpec: prepaid elastic IPs are not offered; use postpaid_by_duration")
        return self

    def provider_name(self) -> str:
        return (self.provider or elastic_ips.BGP).lower()


def _unique_security_groups(v: list[str] | None) -> list[str] | None:
    if v and len(set(v)) != len(v):
        raise ValueError("security groups must not repeat")
    return v


class NetworkInterfaceSpec(WireModel):
    unsupported = {
        "ipv6_address_count": "IPv6 is not offered",
        "ipv6_address": "IPv6 is not offered",
    }

    subnet_id: Annotated[str, Field(min_length=1)]
    az: str | None = None
    network_interface_name: Annotated[str, Field(max_length=32)] | None = None
    primary_ip_address: IPv4 | None = None
    secondary_ip_addresses: Annotated[list[IPv4], Field(max_length=network.MAX_SECONDARY_IPS)] | None = None
    secondary_ip_count: Annotated[int, Field(ge=0, le=network.MAX_SECONDARY_IPS)] | None = None
    security_groups: Annotated[
        list[str], Field(min_length=1, max_length=MAX_GROUPS_PER_INTERFACE), AfterValidator(_unique_security_groups)
    ]
    sanity_check: Literal[0, 1] | None = None
    description: Description | None = None
    ipv6_address_count: int | None = None
    ipv6_address: list[str] | None = None

    @model_validator(mode="after")
    def _secondary_total(self) -> NetworkInterfaceSpec:
        total = len(self.secondary_ip_addresses or ()) + (self.secondary_ip_count or 0)
        if total > network.MAX_SECONDARY_IPS:
            raise ValueError(
                f"secondaryIpAddresses and secondaryIpCount ask {total} secondary IPs together; "
                f"an interface has at most {network.MAX_SECONDARY_IPS}"
            )
        return self

    def addresses(self, count: int) -> network.AddressRequest:
        return network.AddressRequest(
            count=count,
            primary=self.primary_ip_address,
            secondaries=tuple(self.secondary_ip_addresses or ()),
            secondary_count=self.secondary_ip_count or 0,
        )

    @field_validator("network_interface_name")
    @classmethod
    def _nic_name(cls, v: str | None) -> str | None:
        if v is not None and not naming.NETWORK_INTERFACE_NAME.match(v):
            raise ValueError("must be 1-32 characters of Chinese, letters, digits, '_' and '-'")
        return v


class NetworkInterfaceAttachmentSpec(WireModel):
    auto_delete: Flag | None = None
    device_index: int | None = None
    network_interface: NetworkInterfaceSpec

    @model_validator(mode="after")
    def _rules(self) -> NetworkInterfaceAttachmentSpec:
        if self.auto_delete is False:
            raise ValueError("autoDelete: only true is supported for the primary network interface")
        if self.device_index not in (None, 1):
            raise ValueError("deviceIndex: the primary network interface has device index 1")
        return self


class TagSpec(WireModel):
    key: Annotated[str, Field(min_length=1, max_length=127)]
    value: Annotated[str, Field(max_length=255)] | None = None


def _unique_names(kind: str) -> Callable[[list[Any] | None], list[Any] | None]:
    def check(items: list[Any] | None) -> list[Any] | None:
        names = [i.name for i in items or []]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup:
            raise ValueError(f"{kind} name {dup!r} is used more than once")
        return items

    return check


class PodSpec(WireModel):
    unsupported = {
        "ag_id": "availability groups are not offered",
        "secondary_network_interfaces": "a pod has one network interface",
        "resource_group_id": "resource groups are not offered",
        "auto_match_image_cache": "image caches are not offered",
        "auto_create_image_cache": "image caches are not offered",
    }

    name: Annotated[str, Field(min_length=1, max_length=253)]
    description: Description | None = None
    hostname: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    restart_policy: Literal["Always", "OnFailure", "Never"] | None = None
    termination_grace_period_seconds: Annotated[int, Field(ge=0, le=300)] | None = None
    instance_type: str
    az: Annotated[str, Field(min_length=1)]
    ag_id: str | None = None
    dns_config: DnsConfigSpec | None = None
    log_config: LogConfigSpec | None = None
    host_aliases: Annotated[list[HostAliasSpec], Field(max_length=10)] | None = None
    volumes: Annotated[list[VolumeSpec], Field(max_length=7), AfterValidator(_unique_names("volume"))] | None = None
    containers: Annotated[
        list[ContainerSpec], Field(min_length=1, max_length=8), AfterValidator(_unique_names("container"))
    ]
    charge: ChargeSpec | None = None
    elastic_ip: ElasticIpSpec | None = None
    primary_network_interface: NetworkInterfaceAttachmentSpec
    secondary_network_interfaces: list | None = None
    user_tags: list[TagSpec] | None = None
    resource_group_id: str | None = None
    auto_match_image_cache: Flag | None = None
    auto_create_image_cache: Flag | None = None

    @field_validator("instance_type")
    @classmethod
    def _known_type(cls, v: str) -> str:
        if v not in INSTANCE_TYPES:
            raise ValueError("unknown instance type; describeInstanceTypes lists them")
        return v

    @model_validator(mode="after")
    def _cross_field_rules(self) -> PodSpec:
        volumes = {v.name for v in self.volumes or []}
        held = [v.jdcloud_disk.volume_id for v in self.volumes or [] if v.jdcloud_disk.volume_id]
        twice = next((d for d in held if held.count(d) > 1), None)
        if twice:
            raise ValueError(f"volumes: disk {twice} is given in two volumes; a disk is one volume of one pod")
        for c in self.containers:
            for m in c.volume_mounts or []:
                if m.name not in volumes:
                    raise ValueError(f"container {c.name} mounts volume {m.name!r}, which the pod does not define")
        nic = self.primary_network_interface.network_interface
        if nic.az not in (None, "", self.az):
            raise ValueError("primaryNetworkInterface.networkInterface.az must be empty or the pod's az")
        error = resources_error(
            INSTANCE_TYPES[self.instance_type],
            [c.resources.of(c.name) for c in self.containers if c.resources],
        )
        if error:
            raise ValueError(error)
        return self
