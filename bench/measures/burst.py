"""Section 2: a burst of createPods with maxCount n until all run, against n parallel raw Podman runs."""

from __future__ import annotations

from typing import Any

from bench.pods import delete_all, podyard_create
from bench.raw import RawPodman
from drive.harness import Podyard
from drive.jd import Jd


def section_burst(podyard: Podyard, jd: Jd, raw: RawPodman, image: str, n: int) -> dict[str, Any]:
    _, elapsed, _ = podyard_create(jd, image, n)
    delete_all(podyard, jd)
    raw_elapsed = raw.burst(n)
    raw.clean()
    ours, theirs = n / elapsed, n / raw_elapsed
    return {"count": n, "podyard_pods_per_s": ours, "podman_pods_per_s": theirs, "ratio": ours / theirs}
