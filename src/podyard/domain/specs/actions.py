"""Request bodies and query parameters of the pod actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from podyard.domain import naming
from podyard.domain.specs.containers import RebuildContainerSpec, ResourceRequestsSpec
from podyard.domain.specs.pod import Description, PodSpec, _unique_names
from podyard.domain.specs.wire import INTEGER_MAX, Dns1123Label, Flag, WireModel

MAX_COUNT = 100
CLIENT_TOKEN_MAX = 64


def _ascii_token(v: str | None) -> str | None:
    if v is not None and (not v.isascii() or not v):
        raise ValueError(f"must be 1-{CLIENT_TOKEN_MAX} ASCII characters")
    return v


class CreatePodsRequest(WireModel):
    pod_spec: PodSpec
    max_count: Annotated[int, Field(ge=1, le=MAX_COUNT)]
    client_token: Annotated[str, Field(max_length=CLIENT_TOKEN_MAX), AfterValidator(_ascii_token)] | None = None

    @model_validator(mode="after")
    def _names_and_count(self) -> CreatePodsRequest:
        nic = self.pod_spec.primary_network_interface.network_interface
        if nic.primary_ip_address and self.max_count != 1:
            raise ValueError("maxCount must be 1 when primaryIpAddress is given")
        if nic.secondary_ip_addresses and self.max_count != 1:
            raise ValueError("maxCount must be 1 when secondaryIpAddresses are given")
        if self.max_count != 1 and any(v.jdcloud_disk.volume_id for v in self.pod_spec.volumes or []):
            raise ValueError("maxCount must be 1 when a volume is an existing disk (volumeId): one pod at a time")
        for name in self.pod_names():
            error = naming.dns1123_subdomain_error(name)
            if error:
                raise ValueError(f"podSpec.name: {name!r} {error}")
        for hostname in self.hostnames():
            if hostname is not None:
                error = naming.hostname_error(hostname)
                if error:
                    raise ValueError(f"podSpec.hostname: {hostname!r} {error}")
        return self

    def pod_names(self) -> list[str]:
        return naming.expand_names(self.pod_spec.name, self.max_count)

    def hostnames(self) -> Sequence[str | None]:
        if self.pod_spec.hostname is None:
            return [None] * self.max_count
        return list(naming.expand_names(self.pod_spec.hostname, self.max_count))


class CheckPodNameRequest(WireModel):
    pod_name: str | None = None
    max_count: Annotated[int, Field(ge=1, le=MAX_COUNT)] | None = None


class ModifyPodAttributeRequest(WireModel):
    unsupported = {"name": "a pod's name cannot be modified"}

    description: Description | None = None
    name: str | None = None


class RebuildPodRequest(WireModel):
    containers: Annotated[
        list[RebuildContainerSpec], Field(min_length=1, max_length=8), AfterValidator(_unique_names("container"))
    ]


class ContainerResourceSpec(WireModel):
    name: Dns1123Label
    resources: ResourceRequestsSpec


class ResizePodRequest(WireModel):
    instance_type: Annotated[str, Field(min_length=1)]
    container_resources: Annotated[list[ContainerResourceSpec], AfterValidator(_unique_names("container"))] | None = (
        None
    )


class FilterSpec(WireModel):
    name: Annotated[str, Field(min_length=1)]
    operator: str | None = None
    values: Annotated[list[str], Field(min_length=1)]


class TagFilterSpec(WireModel):
    key: Annotated[str, Field(min_length=1)]
    values: list[str] | None = None


class PageQuery(WireModel):
    page_number: Annotated[int, Field(ge=1, le=INTEGER_MAX)] | None = None
    page_size: Annotated[int, Field(ge=10, le=100)] | None = None
    filters: list[FilterSpec] | None = None


class DescribePodsQuery(PageQuery):
    tags: list[TagFilterSpec] | None = None


class DescribePodsStatusQuery(PageQuery):
    page_size: Annotated[int, Field(ge=10, le=500)] | None = None


class DescribeInstanceTypesQuery(WireModel):
    filters: list[FilterSpec] | None = None


class DescribeQuotaQuery(WireModel):
    resource_type: Literal["container", "pod", "secret"]


class DeletePodQuery(WireModel):
    # true: the pod's elastic IP is deleted with it; otherwise it stays, disassociated.
    delete_primary_network_interface_all_elastic_ip: Flag | None = None


class EmptyBody(WireModel):
    """Actions without parameters: anything set in the body is refused."""
