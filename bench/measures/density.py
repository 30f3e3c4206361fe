"""Section 5: idle pods created one after another, their create → Running p99 and podyard's RSS per pod."""

from __future__ import annotations

import time
from typing import Any

from bench.pods import delete_all, podyard_create
from bench.stats import pct, rss_kib, summary
from drive.harness import Podyard
from drive.jd import Jd


def section_density(podyard: Podyard, jd: Jd, image: str, n: int) -> dict[str, Any]:
    assert podyard.proc is not None
    pid = podyard.proc.pid
    before = rss_kib(pid)
    latencies: list[float] = []
    count = 0
    while count < n:
        _, elapsed, _ = podyard_create(jd, image)
        latencies.append(elapsed)
        count += 1
        if count >= 20 and pct(latencies[-20:], 0.99) > 5.0:
            break
    time.sleep(3)  # let the reconciler settle
    after = rss_kib(pid)
    result = {
        "pods": count,
        "create_to_running_s": summary(latencies),
        "last_20_p99_s": pct(latencies[-20:], 0.99),
        "podyard_rss_before_mib": before / 1024,
        "podyard_rss_after_mib": after / 1024,
        "podyard_kib_per_pod": (after - before) / count,
    }
    delete_all(podyard, jd)
    return result
