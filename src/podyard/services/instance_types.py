"""describeInstanceTypes: the instance-type table, filtered."""

from __future__ import annotations

from typing import Any

from podyard.domain.errors import InvalidArgument
from podyard.domain.instance_types import INSTANCE_TYPES, InstanceType
from podyard.services.context import ServiceContext


def describe_instance_types(
    ctx: ServiceContext, region: str, filters: list[Any] | None
) -> tuple[list[InstanceType], list[str]]:
    """The matching types and the zones to report them in."""
    ctx.check_region(region)
    names: set[str] | None = None
    azs = list(ctx.region.azs)
    for i, f in enumerate(filters or []):
        if f.operator not in (None, "eq", "in"):
            raise InvalidArgument(f"filters[{i}].operator: {f.operator!r} is not supported; use eq")
        if f.name == "instanceTypes":
            names = set(f.values)
        elif f.name == "az":
            azs = [a for a in azs if a in f.values]
        else:
            raise InvalidArgument(f"filters[{i}].name: unknown filter {f.name!r}; the filters are instanceTypes, az")
    types = [t for t in INSTANCE_TYPES.values() if names is None or t.name in names]
    if not azs:
        types = []
    return types, azs
