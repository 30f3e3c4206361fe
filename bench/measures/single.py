"""Section 1: createPods → Running, one pod at a time, against ``podman pod create`` + ``podman run -d``."""

from __future__ import annotations

import statistics
from typing import Any

from bench.pods import delete_all, podyard_create
from bench.raw import RawPodman
from bench.stats import summary
from drive.harness import Podyard
from drive.jd import Jd


def section_single(podyard: Podyard, jd: Jd, raw: RawPodman, image: str, n: int) -> dict[str, Any]:
    ours = [podyard_create(jd, image)[1] for _ in range(n)]
    delete_all(podyard, jd)
    theirs = [raw.create(f"s{i}") for i in range(n)]
    raw.clean()
    return {
        "podyard_s": summary(ours),
        "podman_s": summary(theirs),
        "ratio_p50": statistics.median(ours) / statistics.median(theirs),
    }
