"""Registry secrets and private images for real: a local registry behind htpasswd."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from jdcloud_sdk.services.pod.models.DockerRegistryData import DockerRegistryData

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import Account, Jd, JdError, container, pod_spec
from tests.e2e.conftest import PRIVATE_PASSWORD, PRIVATE_USER

pytestmark = pytest.mark.e2e


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def secret_data(server: str, password: str = PRIVATE_PASSWORD) -> DockerRegistryData:
    return DockerRegistryData(b64(server), b64(PRIVATE_USER), b64(password))


def pull_refusal(jd: Jd, pod_id: str) -> str:
    def waiting() -> str | None:
        state = jd.call("describeContainer", pod_id, "app")["container"]["containerStatus"]["state"]
        if "waiting" in state and state["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff"):
            return str(state["waiting"]["message"])
        return None

    message = str(wait_for(waiting, 60, "an image pull failure"))
    pod = jd.pod(pod_id)
    assert pod["podStatus"]["phase"] == "pending" and pod["podStatus"]["reason"] in ("ErrImagePull", "ImagePullBackOff")
    assert pod["podStatus"]["conditions"][0]["status"] == "False"
    return message


def test_private_images(podyard: Podyard, private_registry, private_image: str) -> None:
    jd = podyard.jd()
    tag = uuid.uuid4().hex[:6]
    jd.call("createSecret", f"reg-{tag}", "docker-registry", secret_data(private_registry.address))
    jd.call(
        "createSecret", f"wrong-{tag}", "docker-registry", secret_data(private_registry.address, "not-the-password")
    )
    run = ["sleep", "100000"]
    [ok] = jd.create_pods(
        pod_spec(
            jd.account,
            f"ok-{tag}",
            [container(image=private_image, command=run, secret=f"reg-{tag}")],
            terminationGracePeriodSeconds=0,
        )
    )
    [anon] = jd.create_pods(pod_spec(jd.account, f"anon-{tag}", [container(image=private_image, command=run)]))
    [wrong] = jd.create_pods(
        pod_spec(jd.account, f"wrong-{tag}", [container(image=private_image, command=run, secret=f"wrong-{tag}")])
    )
    missing = f"{private_registry.address}/team/nothing-here:1"
    [unknown] = jd.create_pods(
        pod_spec(jd.account, f"unknown-{tag}", [container(image=missing, command=run, secret=f"reg-{tag}")])
    )
    wait_phase(jd, ok, "running")
    assert podyard.inspect(f"{ok}-app")["State"]["Status"] == "running"
    for refused in (anon, wrong):
        assert "authentication required" in pull_refusal(jd, refused) or "unauthorized" in pull_refusal(jd, refused)
    assert "manifest unknown" in pull_refusal(jd, unknown) or "not found" in pull_refusal(jd, unknown)

    # Another account, a secret of the same name with its own (wrong) password.
    other = Account.from_creds(json.loads(podyard.accounts("create", f"other-{tag}", "--json")))
    theirs = podyard.jd(other)
    theirs.call("createSecret", f"reg-{tag}", "docker-registry", secret_data(private_registry.address, "guess"))
    [their_pod] = theirs.create_pods(
        pod_spec(other, "p", [container(image=private_image, command=run, secret=f"reg-{tag}")])
    )
    assert "unauthorized" in pull_refusal(theirs, their_pod) or "authentication required" in pull_refusal(
        theirs, their_pod
    )
    assert jd.call("describeSecret", f"reg-{tag}")["secret"]["data"]["password"] == b64(PRIVATE_PASSWORD)

    with pytest.raises(JdError, match="used by pod") as e:
        jd.call("deleteSecret", f"reg-{tag}")
    assert ok in e.value.message

    # The password is nowhere it should not be: not in the database, not in the logs, not
    # in the answers about pods.
    answers = json.dumps(
        [
            jd.pod(ok),
            jd.pods(pageSize=100),
            jd.call("describePodsStatus", pageSize=100),
            jd.call("describeContainer", ok, "app"),
        ]
    )
    assert f"reg-{tag}" in answers
    stored = b"".join(p.read_bytes() for p in podyard.data_dir.glob("podyard.db*"))
    logs = podyard.log.read_bytes() + (podyard.data_dir / "podman" / "service.log").read_bytes()
    for haystack in (answers.encode(), stored, logs):
        assert PRIVATE_PASSWORD.encode() not in haystack and b64(PRIVATE_PASSWORD).encode() not in haystack

    for pod_id in (anon, wrong, unknown):
        jd.call("stopPod", pod_id)
        wait_phase(jd, pod_id, "stopped")
        jd.call("deletePod", pod_id)


def test_unreachable_registry_is_said(podyard: Podyard) -> None:
    jd = podyard.jd()
    tag = uuid.uuid4().hex[:6]
    jd.call("createSecret", f"gone-{tag}", "docker-registry", secret_data("127.0.0.1:9"))
    [pod_id] = jd.create_pods(
        pod_spec(jd.account, f"gone-{tag}", [container(image="127.0.0.1:9/team/app:1", secret=f"gone-{tag}")])
    )
    assert "connection refused" in pull_refusal(jd, pod_id)
    jd.call("stopPod", pod_id)


def test_malformed_secret_stores_nothing(podyard: Podyard) -> None:
    jd = podyard.jd()
    before = jd.call("describeSecrets", pageSize=100)["totalCount"]
    for data in (
        {"server": b64("r.example"), "username": b64("a")},
        {"server": "%%%", "username": b64("a"), "password": b64("p")},
    ):
        with pytest.raises(JdError) as e:
            jd.raw("createSecret", {"name": "bad", "secretType": "docker-registry", "data": data})
        assert e.value.code == 400
    assert jd.call("describeSecrets", pageSize=100)["totalCount"] == before
