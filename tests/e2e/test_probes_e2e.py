"""Probes for real: specs built from the official SDK's model classes, exactly as a user
sends them, run by a live podyard against pods on Podman."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from jdcloud_sdk.services.pod.models.ExecSpec import ExecSpec
from jdcloud_sdk.services.pod.models.HgSpec import HgSpec
from jdcloud_sdk.services.pod.models.HhSpec import HhSpec
from jdcloud_sdk.services.pod.models.HostAliasSpec import HostAliasSpec
from jdcloud_sdk.services.pod.models.ProbeSpec import ProbeSpec
from jdcloud_sdk.services.pod.models.TcpSocketSpec import TcpSocketSpec

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import Jd, JdError, container, pod_spec
from drive.wsjdc import JdcStream

pytestmark = pytest.mark.e2e

HTTPD = "mkdir -p /www && exec httpd -f -p {listen} -h /www"


def create(jd: Jd, image: str, command: str, **container_fields: Any) -> str:
    spec = pod_spec(
        jd.account,
        f"pr-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=["sh", "-c", command], **container_fields)],
        terminationGracePeriodSeconds=1,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    return pod_id


def sh(podyard: Podyard, jd: Jd, pod_id: str, script: str) -> None:
    exec_id = jd.call("execCreate", pod_id, "app", ["sh", "-c", script])["execId"]
    JdcStream(podyard.endpoint, jd.account, pod_id, "app", "execStart", exec_id).read_to_end()
    assert jd.call("execGetExitCode", pod_id, "app", exec_id) == {"execCode": 0}


def status(jd: Jd, pod_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    pod = jd.pod(pod_id)
    [ready] = [c for c in pod["podStatus"]["conditions"] if c["conditionType"] == "Ready"]
    return pod["containers"][0]["containerStatus"], ready


def test_http_readiness_follows_a_file(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    probe = ProbeSpec(
        initialDelaySeconds=0,
        periodSeconds=1,
        failureThreshold=1,
        httpGet=HgSpec(8080, "/ready", httpHeader=[HhSpec("X-Probe", "podyard")]),
    )
    pod_id = create(jd, image, HTTPD.format(listen=8080), readinessProbe=probe)
    shown = jd.pod(pod_id)["containers"][0]["readinessProbe"]
    assert shown["httpGet"]["path"] == "/ready" and shown["httpGet"]["httpHeader"] == [
        {"name": "X-Probe", "value": "podyard"}
    ]
    assert (shown["periodSeconds"], shown["timeoutSeconds"], shown["successThreshold"]) == (1, 1, 1)
    c, ready = status(jd, pod_id)
    assert c["ready"] is False and (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")

    sh(podyard, jd, pod_id, "echo ok > /www/ready")
    wait_for(lambda: status(jd, pod_id)[0]["ready"], 30, "ready")
    c, ready = status(jd, pod_id)
    assert ready["status"] == "True" and ready["lastTransitionTime"]
    became_ready = ready["lastTransitionTime"]

    sh(podyard, jd, pod_id, "rm /www/ready")
    wait_for(lambda: not status(jd, pod_id)[0]["ready"], 30, "not ready")
    c, ready = status(jd, pod_id)
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")
    assert ready["lastTransitionTime"] >= became_ready
    assert c["restartCount"] == 0 and jd.pod(pod_id)["podStatus"]["phase"] == "running"


def test_exec_liveness_restarts_the_container(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    # Healthy for 4 s, then not: the probe fails twice in a row and the container restarts.
    command = "touch /tmp/healthy; sleep 4; rm /tmp/healthy; exec sleep 100000"
    probe = ProbeSpec(
        initialDelaySeconds=1, periodSeconds=1, failureThreshold=2, exec_=ExecSpec(["cat", "/tmp/healthy"])
    )
    pod_id = create(jd, image, command, livenessProbe=probe)
    c = wait_for(lambda: (s := status(jd, pod_id)[0])["restartCount"] >= 1 and s, 60, "a restart")
    last = c["lastState"]["terminated"]
    assert last["reason"] == "LivenessProbeFailed", c
    assert "liveness probe failed 2 times" in last["message"] and "exited with 1" in last["message"]
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    # The new run is healthy again for a while, then restarted again: the policy keeps applying.
    wait_for(lambda: status(jd, pod_id)[0]["restartCount"] >= 2, 90, "a second restart")


def test_tcp_and_named_probes_run_inside_the_pod(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    # One server on the pod's address, one on the pod's own loopback (which the host
    # cannot reach): the second probe passes only because it runs in the pod's network
    # namespace, and its host name resolves only through the pod's hosts file.
    serve = (
        "mkdir -p /www && echo hi > /www/index.html && httpd -p 9090 -h /www && exec httpd -f -p 127.0.0.1:9191 -h /www"
    )
    named = ProbeSpec(initialDelaySeconds=0, periodSeconds=1, httpGet=HgSpec(9191, "/", host="self.internal"))
    tcp = ProbeSpec(initialDelaySeconds=0, periodSeconds=1, tcpSocket=TcpSocketSpec(9090))
    spec = pod_spec(
        jd.account,
        f"pr-{uuid.uuid4().hex[:6]}",
        [
            container(image=image, command=["sh", "-c", serve], readinessProbe=named),
            container("side", image=image, command=["sleep", "100000"], readinessProbe=tcp),
        ],
        hostAliases=[HostAliasSpec(["self.internal"], "127.0.0.1")],
        terminationGracePeriodSeconds=1,
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    ready = wait_for(lambda: (r := status(jd, pod_id)[1])["status"] == "True" and r, 30, "both containers ready")
    assert ready["reason"] is None
    assert [c["containerStatus"]["ready"] for c in jd.pod(pod_id)["containers"]] == [True, True]

    # A tcpSocket liveness probe on a closed port restarts the container.
    dead = ProbeSpec(initialDelaySeconds=0, periodSeconds=1, failureThreshold=1, tcpSocket=TcpSocketSpec(9999))
    other = create(jd, image, "exec sleep 100000", livenessProbe=dead)
    c = wait_for(lambda: (s := status(jd, other)[0])["restartCount"] >= 1 and s, 60, "a restart")
    assert c["lastState"]["terminated"]["reason"] == "LivenessProbeFailed"
    assert "refused" in c["lastState"]["terminated"]["message"]


@pytest.mark.parametrize(
    ("probe", "field"),
    [
        (ProbeSpec(periodSeconds=0, tcpSocket=TcpSocketSpec(80)), "periodSeconds"),
        (ProbeSpec(failureThreshold=11, exec_=ExecSpec(["true"])), "failureThreshold"),
        (ProbeSpec(httpGet=HgSpec(80, "/", scheme="ftp")), "scheme"),
        (ProbeSpec(tcpSocket=TcpSocketSpec(70000)), "port"),
        (ProbeSpec(httpGet=HgSpec(80, "/", httpHeader=[HhSpec("X-A", "1\r\nX-B: 2")])), "value"),
        (ProbeSpec(initialDelaySeconds=5), "exactly one"),
    ],
)
def test_bad_probes_are_refused(podyard: Podyard, image: str, probe: ProbeSpec, field: str) -> None:
    jd = podyard.jd()
    before = jd.pods()["totalCount"]
    spec = pod_spec(jd.account, "bad-probe", [container(image=image, readinessProbe=probe)])
    with pytest.raises(JdError) as e:
        jd.create_pods(spec)
    assert e.value.code == 400 and field in e.value.message
    assert jd.pods()["totalCount"] == before
