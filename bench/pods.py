"""podyard's pods in a benchmark, through the official SDK: create them and wait until they
run, and delete them all."""

from __future__ import annotations

import time
import uuid
from contextlib import suppress

from drive.harness import Podyard, wait_for
from drive.jd import Jd, container, pod_spec

IMAGE_SLEEP = ["sleep", "100000"]  # what a benchmark's pod runs, podyard's and raw Podman's alike


def running(jd: Jd, pod_ids: list[str], timeout: float = 120, every: float = 0.01) -> dict[str, float]:
    """Poll describePods every ``every`` s until every pod runs; when each was first seen running."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(pod_ids):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"pods did not run in {timeout}s")
        from jdcloud_sdk.services.common.models.Filter import Filter

        pending = [p for p in pod_ids if p not in seen]
        for i in range(0, len(pending), 100):
            batch = pending[i : i + 100]
            for pod in jd.pods(filters=[Filter("podId", batch)], pageSize=100)["pods"]:
                if pod["podStatus"]["phase"] == "running":
                    seen.setdefault(pod["podId"], time.perf_counter())
        time.sleep(every)
    return seen


def podyard_create(jd: Jd, image: str, count: int = 1) -> tuple[list[str], float, list[float]]:
    spec = pod_spec(
        jd.account,
        f"b-{uuid.uuid4().hex[:8]}",
        [container(image=image, command=IMAGE_SLEEP)],
        terminationGracePeriodSeconds=0,
    )
    t = time.perf_counter()
    ids = jd.create_pods(spec, count)
    seen = running(jd, ids)
    return ids, max(seen.values()) - t, [v - t for v in seen.values()]


def delete_all(podyard: Podyard, jd: Jd) -> None:
    """Delete every pod, a page of 100 at a time, each page gone before the next."""
    from jdcloud_sdk.services.common.models.Filter import Filter

    ids = [p["podId"] for p in jd.pods(pageSize=100)["pods"]]
    while ids:
        for pod_id in ids:
            with suppress(Exception):
                jd.call("deletePod", pod_id)
        gone = lambda page=ids: not jd.pods(filters=[Filter("podId", page)], pageSize=100)["pods"]  # noqa: E731
        wait_for(gone, 300, "the pods to go")
        ids = [p["podId"] for p in jd.pods(pageSize=100)["pods"]]
