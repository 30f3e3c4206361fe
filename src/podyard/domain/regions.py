"""Regions and availability zones a podyard installation serves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    region_id: str
    azs: tuple[str, ...]


def region_with_default_azs(region_id: str) -> Region:
    """A region named like JD's (``cn-north-1``) has the zones ``cn-north-1a..c``."""
    return Region(region_id=region_id, azs=tuple(f"{region_id}{z}" for z in "abc"))
