"""The official SDK against podyard with the fake runtime: every action of the pod service."""

from __future__ import annotations

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.ContainerResourceSpec import ContainerResourceSpec
from jdcloud_sdk.services.pod.models.DnsConfigSpec import DnsConfigSpec
from jdcloud_sdk.services.pod.models.ExecSpec import ExecSpec
from jdcloud_sdk.services.pod.models.HgSpec import HgSpec
from jdcloud_sdk.services.pod.models.HostAliasSpec import HostAliasSpec
from jdcloud_sdk.services.pod.models.ProbeSpec import ProbeSpec
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec
from jdcloud_sdk.services.pod.models.RequestSpec import RequestSpec
from jdcloud_sdk.services.pod.models.ResourceRequestsSpec import ResourceRequestsSpec
from jdcloud_sdk.services.pod.models.TcpSocketSpec import TcpSocketSpec

from drive.harness import wait_for
from drive.jd import JdError, container, pod_spec
from podyard.domain.probes import ProbeResult


def test_create_describe_shapes(fake_server) -> None:
    jd = fake_server.jd()
    spec = pod_spec(
        jd.account,
        "web",
        [container(command=["sleep", "100"], env={"JAVA_HOME": "/opt/java"})],
        description="front end",
        hostname="front",
        dnsConfig=DnsConfigSpec(nameservers=["10.0.0.2"], searches=["svc.local"]),
        hostAliases=[HostAliasSpec(["db.local"], "10.0.0.9")],
    )
    [pod_id] = jd.create_pods(spec)
    fake_server.settle()
    pod = jd.pod(pod_id)
    assert pod["name"] == "web" and pod["description"] == "front end" and pod["hostname"] == "front"
    assert pod["instanceType"] == "g.s1.micro" and pod["restartPolicy"] == "Always"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["podStatus"]["phase"] == "running"
    assert pod["podStatus"]["podIP"] == pod["privateIpAddress"]
    assert pod["podStatus"]["conditions"][0]["conditionType"] == "Ready"
    assert pod["vpcId"] == jd.account.vpc_id and pod["subnetId"] == jd.account.subnet_id
    nic = pod["primaryNetworkInterface"]["networkInterface"]
    assert nic["securityGroups"] == [{"groupId": jd.account.security_group_id, "groupName": "default"}]
    assert nic["primaryIp"]["privateIpAddress"] == pod["privateIpAddress"]
    assert pod["dnsConfig"]["nameservers"] == ["10.0.0.2"]
    assert pod["hostAliases"] == [{"hostnames": ["db.local"], "ip": "10.0.0.9"}]
    assert pod["charge"]["chargeMode"] == "postpaid_by_duration" and pod["charge"]["chargeStatus"] == "normal"
    c = pod["containers"][0]
    assert c["env"] == [{"name": "JAVA_HOME", "value": "/opt/java"}]
    assert c["containerStatus"]["state"]["running"]["startedAt"]
    one = jd.call("describeContainer", pod_id, "app")["container"]
    assert one["name"] == "app" and one["command"] == ["sleep", "100"]
    with pytest.raises(JdError) as e:
        jd.call("describeContainer", pod_id, "nope")
    assert e.value.code == 404


def test_lifecycle_through_the_sdk(fake_server) -> None:
    jd = fake_server.jd()
    [pod_id] = jd.create_pods(pod_spec(jd.account, "life", [container()]))
    fake_server.settle()
    with pytest.raises(JdError) as e:
        jd.call("startPod", pod_id)
    assert (e.value.code, e.value.status) == (400, "FAILED_PRECONDITION")
    jd.call("stopPod", pod_id)
    fake_server.settle()
    pod = jd.pod(pod_id)
    assert pod["podStatus"]["phase"] == "stopped"
    assert pod["containers"][0]["containerStatus"]["state"]["terminated"]["exitCode"] == 143
    jd.call("startPod", pod_id)
    fake_server.settle()
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    jd.call("modifyPodAttribute", pod_id, description="new words")
    assert jd.pod(pod_id)["description"] == "new words"
    jd.call("deletePod", pod_id)
    fake_server.settle()
    with pytest.raises(JdError) as e:
        jd.pod(pod_id)
    assert e.value.code == 404


def test_rebuild_and_resize(fake_server) -> None:
    jd = fake_server.jd()
    [pod_id] = jd.create_pods(pod_spec(jd.account, "rr", [container(command=["sleep", "1"])]))
    fake_server.settle()
    with pytest.raises(JdError, match=r"rebuildPod is not allowed while pod .* is running"):
        jd.call("rebuildPod", pod_id, [RebuildContainerSpec("app", "busybox", command=["echo", "x"])])
    jd.call("stopPod", pod_id)
    fake_server.settle()
    jd.call("rebuildPod", pod_id, [RebuildContainerSpec("app", "busybox:1.36", command=["echo", "x"])])
    fake_server.settle()
    pod = jd.pod(pod_id)
    assert pod["podStatus"]["phase"] == "stopped"
    assert pod["containers"][0]["image"] == "busybox:1.36" and pod["containers"][0]["command"] == ["echo", "x"]
    assert pod["containers"][0]["systemDisk"]["category"] == "local"  # kept from the original spec
    with pytest.raises(JdError, match="no container 'zzz'"):
        jd.call("rebuildPod", pod_id, [RebuildContainerSpec("zzz", "busybox")])
    with pytest.raises(JdError, match=r"g\.s1\.micro already"):
        jd.call("resizePod", pod_id, "g.s1.micro")
    too_much = [ContainerResourceSpec("app", ResourceRequestsSpec(limits=RequestSpec(cpu="3")))]
    with pytest.raises(JdError, match="exceeds"):
        jd.call("resizePod", pod_id, "g.n2.large", containerResources=too_much)
    jd.call(
        "resizePod",
        pod_id,
        "g.n2.large",
        containerResources=[ContainerResourceSpec("app", ResourceRequestsSpec(limits=RequestSpec(cpu="1500m")))],
    )
    fake_server.settle()
    pod = jd.pod(pod_id)
    assert pod["instanceType"] == "g.n2.large" and pod["podStatus"]["phase"] == "stopped"
    assert pod["containers"][0]["resources"]["limits"]["cpu"] == "1500m"
    run = fake_server.runtime.pods[pod_id].run
    assert run.memory_bytes == 8 * 1024**3 and run.containers[0].cpu_millis == 1500


def test_probes_through_create_and_rebuild(fake_server) -> None:
    jd = fake_server.jd()
    live = ProbeSpec(exec_=ExecSpec(["cat", "/tmp/ok"]), periodSeconds=5)
    [pod_id] = jd.create_pods(pod_spec(jd.account, "pr", [container(command=["sleep", "1"], livenessProbe=live)]))
    fake_server.settle()
    shown = jd.pod(pod_id)["containers"][0]
    assert shown["livenessProbe"] == {
        "initialDelaySeconds": 10,
        "periodSeconds": 5,
        "timeoutSeconds": 1,
        "failureThreshold": 3,
        "successThreshold": 1,
        "exec": {"command": ["cat", "/tmp/ok"]},
        "httpGet": None,
        "tcpSocket": None,
    }
    assert shown["readinessProbe"] is None and shown["containerStatus"]["ready"] is True

    # rebuildPod replaces the probes; the rebuilt pod, started, is probed with the new ones.
    jd.call("stopPod", pod_id)
    fake_server.settle()
    ready = ProbeSpec(initialDelaySeconds=0, periodSeconds=1, failureThreshold=1, httpGet=HgSpec(8080, "/healthz"))
    jd.call("rebuildPod", pod_id, [RebuildContainerSpec("app", "busybox", readinessProbe=ready)])
    fake_server.settle()
    shown = jd.pod(pod_id)["containers"][0]
    assert shown["livenessProbe"] is None and shown["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert shown["readinessProbe"]["httpGet"]["scheme"] == "http"
    jd.call("startPod", pod_id)
    status = lambda: jd.pod(pod_id)["containers"][0]["containerStatus"]  # noqa: E731
    wait_for(lambda: status()["ready"], 10, "ready")
    probed = fake_server.in_loop(lambda: [c for p, _, c in fake_server.runtime.probes if p == pod_id])
    assert {c.kind for c in probed} == {"httpGet"} and probed[-1].port == 8080
    fake_server.in_loop(
        lambda: fake_server.runtime.probe_results.update({(pod_id, "app", "httpGet"): ProbeResult(False)})
    )
    wait_for(lambda: not status()["ready"], 10, "not ready")
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running" and status()["restartCount"] == 0
    with pytest.raises(JdError, match="exactly one"):
        jd.call("rebuildPod", pod_id, [RebuildContainerSpec("app", "busybox", livenessProbe=ProbeSpec(
            tcpSocket=TcpSocketSpec(80), exec_=ExecSpec(["true"])))])  # fmt: skip


def test_describe_pods_filters_and_pages(fake_server) -> None:
    jd = fake_server.jd()
    ids = jd.create_pods(pod_spec(jd.account, "many", [container()]), 12)
    [other] = jd.create_pods(pod_spec(jd.account, "other", [container()], az="cn-north-1b"))
    fake_server.settle()
    jd.call("stopPod", ids[0])
    fake_server.settle()
    assert jd.pods()["totalCount"] == 13
    page1, page2 = jd.pods(pageNumber=1, pageSize=10), jd.pods(pageNumber=2, pageSize=10)
    assert len(page1["pods"]) == 10 and len(page2["pods"]) == 3
    assert not {p["podId"] for p in page1["pods"]} & {p["podId"] for p in page2["pods"]}
    by = lambda name, *values: jd.pods(filters=[Filter(name, list(values))])  # noqa: E731
    assert by("phase", "stopped")["totalCount"] == 1
    assert by("phase", "stopped", "running")["totalCount"] == 13
    assert by("podId", ids[1], other)["totalCount"] == 2
    assert by("az", "cn-north-1b")["pods"][0]["podId"] == other
    assert by("name", "many1")["totalCount"] == 4  # fuzzy: many1, many10, many11, many12
    assert by("name", "MANY1")["totalCount"] == 4  # and blind to case, on every database
    assert by("vpcId", jd.account.vpc_id)["totalCount"] == 13
    assert by("subnetId", jd.account.subnet_id)["totalCount"] == 13
    ip = jd.pod(other)["privateIpAddress"]
    assert by("privateIpAddress", ip)["pods"][0]["podId"] == other
    status = jd.call("describePodsStatus", pageSize=50)
    assert status["totalCount"] == 13 and {"podId", "podStatus", "containers"} <= set(status["podsStatus"][0])
    assert jd.call("describePodsStatus", filters=[Filter("agId", ["ag-1"])])["totalCount"] == 0
    with pytest.raises(JdError, match="unknown filter 'color'"):
        by("color", "red")
    with pytest.raises(JdError, match="exactly one value"):
        by("name", "a", "b")


def test_tags_filter(fake_server) -> None:
    from jdcloud_sdk.services.pod.models.TagFilter import TagFilter
    from jdcloud_sdk.services.vm.models.Tag import Tag

    jd = fake_server.jd()
    [tagged] = jd.create_pods(pod_spec(jd.account, "tagged", [container()], userTags=[Tag("team", "a")]))
    jd.create_pods(pod_spec(jd.account, "plain", [container()]))
    found = jd.pods(tags=[TagFilter("team", ["a"])])
    assert [p["podId"] for p in found["pods"]] == [tagged] and found["pods"][0]["tags"] == [
        {"key": "team", "value": "a"}
    ]
    assert jd.pods(tags=[TagFilter("team", ["b"])])["totalCount"] == 0


def test_check_pod_name(fake_server) -> None:
    jd = fake_server.jd()
    jd.create_pods(pod_spec(jd.account, "taken", [container()]))
    jd.create_pods(pod_spec(jd.account, "batch", [container()]), 2)
    assert jd.call("checkPodName", "free") == {"code": 0, "reason": None}
    assert jd.call("checkPodName", "")["code"] == 1
    assert jd.call("checkPodName", "Bad_Name")["code"] == 2
    assert jd.call("checkPodName", "taken")["code"] == 3
    assert jd.call("checkPodName", "batch")["code"] == 0
    assert jd.call("checkPodName", "batch", maxCount=2)["code"] == 3  # batch1, batch2 exist
    with pytest.raises(JdError) as e:
        jd.call("checkPodName", "x", maxCount=101)
    assert e.value.code == 400


def test_client_token_is_idempotent(fake_server) -> None:
    jd = fake_server.jd()
    spec = pod_spec(jd.account, "idem", [container()])
    first = jd.create_pods(spec, 2, client_token="tok-1")
    again = jd.create_pods(spec, 2, client_token="tok-1")
    assert first == again and jd.pods()["totalCount"] == 2
    with pytest.raises(JdError, match="clientToken") as e:
        jd.create_pods(pod_spec(jd.account, "idem-other", [container()]), 2, client_token="tok-1")
    assert e.value.code == 400 and jd.pods()["totalCount"] == 2


def test_quota_and_instance_types(fake_server) -> None:
    jd = fake_server.jd()
    jd.create_pods(pod_spec(jd.account, "q", [container(), container("side")]), 3)
    assert jd.call("describeQuota", "pod")["quota"] == {"resourceType": "pod", "limit": 20, "used": 3}
    assert jd.call("describeQuota", "container")["quota"] == {"resourceType": "container", "limit": 40, "used": 6}
    assert jd.call("describeQuota", "secret")["quota"]["used"] == 0
    with pytest.raises(JdError, match="resourceType"):
        jd.call("describeQuota", "disk")
    with pytest.raises(JdError) as e:
        jd.create_pods(pod_spec(jd.account, "over", [container()]), 18)
    assert (e.value.code, e.value.status) == (429, "QUOTA_EXCEEDED")
    types = jd.call("describeInstanceTypes")
    micro = next(t for t in types["instanceTypes"] if t["instanceType"] == "g.s1.micro")
    assert micro["cpu"] == 1 and micro["memoryMB"] == 1024 and types["totalCount"] == len(types["instanceTypes"])
    assert [s["az"] for s in micro["state"]] == ["cn-north-1a", "cn-north-1b", "cn-north-1c"]
    only = jd.call(
        "describeInstanceTypes", filters=[Filter("instanceTypes", ["g.n2.large"]), Filter("az", ["cn-north-1c"])]
    )
    assert [t["instanceType"] for t in only["instanceTypes"]] == ["g.n2.large"]
    assert [s["az"] for s in only["instanceTypes"][0]["state"]] == ["cn-north-1c"]


def test_accounts_see_only_their_own(fake_server) -> None:
    admin = fake_server.jd()
    [pod_id] = admin.create_pods(pod_spec(admin.account, "mine", [container()]))
    other = fake_server.jd(fake_server.new_account("other"))
    for action in ("describePod", "stopPod", "deletePod"):
        with pytest.raises(JdError) as e:
            other.call(action, pod_id)
        assert e.value.code == 404
    assert other.pods()["totalCount"] == 0
    # The same name in another account is fine; another account's subnet is not.
    other.create_pods(pod_spec(other.account, "mine", [container()]))
    stolen = pod_spec(other.account, "x", [container()])
    stolen.primaryNetworkInterface.networkInterface.subnetId = admin.account.subnet_id
    with pytest.raises(JdError, match=r"subnet .* not found") as e:
        other.create_pods(stolen)
    assert e.value.code == 404
    assert admin.pod(pod_id)["podStatus"]["phase"] in ("pending", "running")


def test_account_standing(fake_server) -> None:
    from podyard.services import accounts

    unverified = fake_server.jd(fake_server.new_account("newbie", verified=False))
    with pytest.raises(JdError, match="real-name") as e:
        unverified.create_pods(pod_spec(unverified.account, "x", [container()]))
    assert e.value.code == 403 and unverified.pods()["totalCount"] == 0

    jd = fake_server.jd(fake_server.new_account("debtor"))
    [running] = jd.create_pods(pod_spec(jd.account, "r", [container()]))
    [stopped] = jd.create_pods(pod_spec(jd.account, "s", [container()]))
    fake_server.settle()
    jd.call("stopPod", stopped)
    fake_server.settle()
    accounts.set_standing(fake_server.app.ctx, "debtor", in_arrears=True)
    for action, pod_id in (("startPod", stopped), ("deletePod", running)):
        with pytest.raises(JdError, match="arrears") as e:
            jd.call(action, pod_id)
        assert e.value.code == 403
    accounts.set_standing(fake_server.app.ctx, "debtor", in_arrears=False)
    jd.call("startPod", stopped)


def test_prepaid_pods_are_deleted_only_once_expired(fake_server) -> None:
    from jdcloud_sdk.services.charge.models.ChargeSpec import ChargeSpec

    jd = fake_server.jd()
    [pod_id] = jd.create_pods(
        pod_spec(jd.account, "prepaid", [container()], charge=ChargeSpec("prepaid_by_duration", "month", 1))
    )
    fake_server.settle()
    charge = jd.pod(pod_id)["charge"]
    assert charge["chargeMode"] == "prepaid_by_duration" and charge["chargeExpiredTime"]
    with pytest.raises(JdError, match="prepaid until") as e:
        jd.call("deletePod", pod_id)
    assert e.value.status == "FAILED_PRECONDITION"
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
