"""A restart of podyard while pods run loses nothing, and repairs what changed meanwhile."""

from __future__ import annotations

import uuid

import pytest

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import container, pod_spec

pytestmark = pytest.mark.e2e


def test_restart_readopts_and_reports_truthfully(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    tag = uuid.uuid4().hex[:6]
    [kept, vanishing] = jd.create_pods(
        pod_spec(
            jd.account,
            f"keep-{tag}",
            [container(image=image, command=["sleep", "1000"])],
            terminationGracePeriodSeconds=0,
        ),
        2,
    )
    before = wait_phase(jd, kept, "running")
    wait_phase(jd, vanishing, "running")
    started = before["containers"][0]["containerStatus"]["state"]["running"]["startedAt"]

    podyard.stop()
    try:
        # While podyard is down: a pod's containers are removed behind its back, and a pod
        # left by an interrupted create (labels, but no stored pod) appears.
        podyard.remove_pod(vanishing)
        podyard.podman(
            "pod",
            "create",
            "--name",
            "pod-leftover",
            "--label",
            "podyard.managed=true",
            "--label",
            "podyard.pod=pod-leftover",
        )
        assert podyard.inspect(f"{kept}-app")["State"]["Status"] == "running"  # pods outlive podyard
    finally:
        podyard.start()  # the tests after this one share this podyard

    after = wait_phase(jd, kept, "running")
    assert after["containers"][0]["containerStatus"]["state"]["running"]["startedAt"] == started
    assert after["containers"][0]["containerStatus"]["restartCount"] == 0
    gone = wait_phase(jd, vanishing, "error")
    assert gone["podStatus"]["reason"] == "ContainersMissing"
    assert "terminated" in gone["containers"][0]["containerStatus"]["state"]
    wait_for(
        lambda: "pod-leftover" not in podyard.podman("pod", "ps", "--format", "{{.Name}}"),
        30,
        "the leftover pod to be removed",
    )
    jd.call("deletePod", vanishing)
    jd.call("stopPod", kept)
    wait_phase(jd, kept, "stopped")
