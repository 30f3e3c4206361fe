"""Section 4: an exec round trip and a logs tail of 100, against ``podman exec`` and ``podman logs``."""

from __future__ import annotations

import statistics
import subprocess
import time
import uuid
from typing import Any

from bench.pods import delete_all, running
from bench.stats import summary
from drive.harness import Podyard, wait_for
from drive.jd import Jd, container, pod_spec
from drive.wsjdc import JdcStream


def section_exec_logs(podyard: Podyard, jd: Jd, image: str, n: int) -> dict[str, Any]:
    spec = pod_spec(
        jd.account,
        f"x-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=["sh", "-c", "seq 1 1000; exec sleep 100000"])],
        terminationGracePeriodSeconds=0,
    )
    [pod_id] = jd.create_pods(spec)
    running(jd, [pod_id])
    wait_for(lambda: "1000" in jd.call("getContainerLogs", pod_id, "app", tailLines=1)["logs"]["content"], 30)
    ctr = f"{pod_id}-app"
    ours_exec, theirs_exec, ours_logs, theirs_logs = [], [], [], []
    g, env = podyard.podman_service.global_args(), podyard.podman_service.env
    for _ in range(n):
        t = time.perf_counter()
        exec_id = jd.call("execCreate", pod_id, "app", ["true"])["execId"]
        JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id).read_to_end()
        assert jd.call("execGetExitCode", pod_id, "app", exec_id)["execCode"] == 0
        ours_exec.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["podman", *g, "exec", ctr, "true"], env=env, check=True, capture_output=True)
        theirs_exec.append(time.perf_counter() - t)
        t = time.perf_counter()
        jd.call("getContainerLogs", pod_id, "app", tailLines=100)
        ours_logs.append(time.perf_counter() - t)
        t = time.perf_counter()
        subprocess.run(["podman", *g, "logs", "--tail", "100", ctr], env=env, check=True, capture_output=True)
        theirs_logs.append(time.perf_counter() - t)
    delete_all(podyard, jd)
    return {
        "exec": {
            "podyard_s": summary(ours_exec),
            "podman_s": summary(theirs_exec),
            "ratio_p50": statistics.median(ours_exec) / statistics.median(theirs_exec),
        },
        "logs": {
            "podyard_s": summary(ours_logs),
            "podman_s": summary(theirs_logs),
            "ratio_p50": statistics.median(ours_logs) / statistics.median(theirs_logs),
        },
    }
