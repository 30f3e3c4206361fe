"""Pods for real: the official SDK against a live podyard on Podman."""

from __future__ import annotations

import ipaddress
import json
import uuid

import pytest
from jdcloud_sdk.services.pod.models.DnsConfigSpec import DnsConfigSpec
from jdcloud_sdk.services.pod.models.HostAliasSpec import HostAliasSpec
from jdcloud_sdk.services.pod.models.PodDnsConfigOptionSpec import PodDnsConfigOptionSpec
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec

from drive.harness import Podyard, wait_for, wait_phase
from drive.jd import JdError, container, pod_spec

pytestmark = pytest.mark.e2e
GiB = 1024**3


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_three_pods_run_for_real(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    web = container(image=image, command=["sh", "-c", "echo hi > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])
    ids = jd.create_pods(pod_spec(jd.account, name("three"), [web], instance_type="g.s1.micro"), 3)
    assert len(ids) == 3
    pods = [wait_phase(jd, p, "running") for p in ids]
    ips = [p["privateIpAddress"] for p in pods]
    subnet = ipaddress.ip_network(jd.account.subnet_cidr)
    assert len(set(ips)) == 3 and all(ipaddress.ip_address(ip) in subnet for ip in ips)
    for pod in pods:
        app = podyard.inspect(f"{pod['podId']}-app")
        assert app["State"]["Status"] == "running"
        assert app["HostConfig"]["Memory"] == 1 * GiB  # g.s1.micro: 1 core, 1 GB
        assert app["HostConfig"]["CpuQuota"] == 100_000 and app["HostConfig"]["CpuPeriod"] == 100_000
        assert app["HostConfig"]["Privileged"] is False
        assert app["HostConfig"]["PidsLimit"] == 1024
        assert (
            any("no-new-privileges" in o for o in app["HostConfig"]["SecurityOpt"] or [])
            or app["Config"].get("NoNewPrivileges") is True
        )
        # The interface podyard made: the pod's address and MAC on its eth0.
        app_name = f"{pod['podId']}-app"
        mac = podyard.podman("exec", app_name, "cat", "/sys/class/net/eth0/address").strip()
        assert mac == pod["primaryNetworkInterface"]["networkInterface"]["macAddress"]
        assert pod["privateIpAddress"] in podyard.podman("exec", app_name, "cat", "/proc/net/fib_trie")
        limit = podyard.podman("exec", app_name, "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes").strip()
        assert int(limit) == 1 * GiB
        assert podyard.podman("exec", app_name, "hostname").strip() == pod["podId"]
    # The addresses are real: each pod reaches the next one's server on the subnet (the
    # default security group lets a VPC's pods in).
    for pod, other in zip(pods, pods[1:] + pods[:1], strict=True):
        fetch = f"printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {other['privateIpAddress']} 8080"
        got = wait_for(lambda f=fetch, p=pod: podyard.podman("exec", f"{p['podId']}-app", "sh", "-c", f), 20)
        assert got.endswith("hi\n"), got


def test_stop_start_with_grace(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    graceful = container(image=image, command=["sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.2; done"])
    [pod_id] = jd.create_pods(pod_spec(jd.account, name("grace"), [graceful], terminationGracePeriodSeconds=10))
    [hard] = jd.create_pods(
        pod_spec(
            jd.account,
            name("hard"),
            [container(image=image, command=["sleep", "1000"])],
            terminationGracePeriodSeconds=0,
        )
    )
    wait_phase(jd, pod_id, "running")
    wait_phase(jd, hard, "running")
    jd.call("stopPod", pod_id)
    jd.call("stopPod", hard)
    pod = wait_phase(jd, pod_id, "stopped")
    # SIGTERM reached the process and it had time to exit its own way.
    assert pod["containers"][0]["containerStatus"]["state"]["terminated"]["exitCode"] == 7
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "exited"
    killed = wait_phase(jd, hard, "stopped")["containers"][0]["containerStatus"]["state"]["terminated"]
    assert killed["exitCode"] == 137 and killed["signal"] == 9
    jd.call("startPod", pod_id)
    pod = wait_phase(jd, pod_id, "running")
    assert pod["containers"][0]["containerStatus"]["state"]["running"]["startedAt"]
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "running"
    jd.call("deletePod", hard)


def test_rebuild_changes_what_runs(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account,
            name("rebuild"),
            [container(image=image, command=["sh", "-c", "echo old > /tmp/who; exec sleep 1000"])],
            terminationGracePeriodSeconds=0,
        )
    )
    wait_phase(jd, pod_id, "running")
    assert podyard.podman("exec", f"{pod_id}-app", "cat", "/tmp/who").strip() == "old"
    jd.call("stopPod", pod_id)
    wait_phase(jd, pod_id, "stopped")
    jd.call(
        "rebuildPod",
        pod_id,
        [RebuildContainerSpec("app", image, command=["sh", "-c", "echo new > /tmp/who; exec sleep 1000"])],
    )
    pod = wait_phase(jd, pod_id, "stopped")
    assert podyard.inspect(f"{pod_id}-app")["State"]["Status"] == "created"  # rebuilt, kept stopped
    assert pod["containers"][0]["command"][-1].startswith("echo new")
    jd.call("startPod", pod_id)
    wait_phase(jd, pod_id, "running")
    assert wait_for(lambda: podyard.podman("exec", f"{pod_id}-app", "cat", "/tmp/who").strip() == "new", 20)


def test_delete_removes_everything_and_frees_the_address(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account,
            name("del"),
            [container(image=image, command=["sleep", "1000"])],
            terminationGracePeriodSeconds=0,
        )
    )
    ip = wait_phase(jd, pod_id, "running")["privateIpAddress"]
    jd.call("deletePod", pod_id)

    def gone() -> bool:
        try:
            jd.pod(pod_id)
            return False
        except JdError as e:
            return e.code == 404

    wait_for(gone, 60, "the pod to be deleted")
    assert pod_id not in podyard.podman("pod", "ps", "--format", "{{.Name}}")
    assert podyard.podman("ps", "-a", "--filter", f"label=podyard.pod={pod_id}", "-q").strip() == ""
    [again] = jd.create_pods(
        pod_spec(jd.account, name("reuse"), [container(image=image, command=["sleep", "1000"])], primary_ip=ip)
    )
    assert wait_phase(jd, again, "running")["privateIpAddress"] == ip


def test_client_token_creates_nothing_twice(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    spec = pod_spec(jd.account, name("token"), [container(image=image, command=["sleep", "1000"])])
    token = uuid.uuid4().hex
    first = jd.create_pods(spec, 2, client_token=token)
    for p in first:
        wait_phase(jd, p, "running")
    pods_before = podyard.podman("pod", "ps", "-q").split()
    assert jd.create_pods(spec, 2, client_token=token) == first
    assert podyard.podman("pod", "ps", "-q").split() == pods_before


def test_restart_policies(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    [retried] = jd.create_pods(
        pod_spec(
            jd.account,
            name("onfail"),
            [container(image=image, command=["sh", "-c", "sleep 0.3; exit 1"])],
            restartPolicy="OnFailure",
        )
    )
    [never] = jd.create_pods(
        pod_spec(
            jd.account, name("never"), [container(image=image, command=["sh", "-c", "exit 3"])], restartPolicy="Never"
        )
    )

    def restarted_twice() -> dict | None:
        status = jd.pod(retried)["containers"][0]["containerStatus"]
        return status if status["restartCount"] >= 2 else None

    status = wait_for(restarted_twice, 60, "restartCount to grow")
    assert status["lastState"]["terminated"]["exitCode"] == 1
    assert jd.pod(retried)["podStatus"]["phase"] == "running"
    done = wait_phase(jd, never, "stopped")
    assert done["podStatus"]["reason"] == "Failed" and "exit code 3" in done["podStatus"]["message"]
    term = done["containers"][0]["containerStatus"]["state"]["terminated"]
    assert term["exitCode"] == 3 and done["containers"][0]["containerStatus"]["restartCount"] == 0
    jd.call("deletePod", retried)


def test_dns_hosts_env_and_workdir_are_real(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    c = container(image=image, command=["sleep", "1000"], env={"JAVA_HOME": "/opt/java"}, workingDir="/tmp")
    spec = pod_spec(
        jd.account,
        name("conf"),
        [c],
        hostname="api.internal",
        dnsConfig=DnsConfigSpec(
            nameservers=["10.0.0.53"], searches=["svc.example"], options=[PodDnsConfigOptionSpec("ndots", "3")]
        ),
        hostAliases=[HostAliasSpec(["db.local", "cache.local"], "10.9.8.7")],
    )
    [pod_id] = jd.create_pods(spec)
    wait_phase(jd, pod_id, "running")
    app = f"{pod_id}-app"
    resolv = podyard.podman("exec", app, "cat", "/etc/resolv.conf")
    assert "nameserver 10.0.0.53" in resolv and "search svc.example" in resolv and "options ndots:3" in resolv
    hosts = podyard.podman("exec", app, "cat", "/etc/hosts")
    assert "10.9.8.7\tdb.local" in hosts and "cache.local" in hosts
    assert podyard.podman("exec", app, "hostname").strip() == "api.internal"
    assert "JAVA_HOME=/opt/java" in podyard.podman("exec", app, "env")
    assert podyard.podman("exec", app, "sh", "-c", "pwd").strip() == "/tmp"


def test_pull_failure_is_visible(podyard: Podyard, registry) -> None:
    jd = podyard.jd()
    missing = f"{registry.address}/test/nothing-here:1"
    [pod_id] = jd.create_pods(pod_spec(jd.account, name("nopull"), [container(image=missing)]))

    def waiting() -> dict | None:
        pod = jd.pod(pod_id)
        state = pod["containers"][0]["containerStatus"]["state"]
        return (
            pod if "waiting" in state and state["waiting"]["reason"] in ("ErrImagePull", "ImagePullBackOff") else None
        )

    pod = wait_for(waiting, 60, "an image pull failure")
    assert pod["podStatus"]["phase"] == "pending"
    assert "nothing-here" in pod["containers"][0]["containerStatus"]["state"]["waiting"]["message"]
    assert pod["podStatus"]["conditions"][0]["status"] == "False"
    jd.call("stopPod", pod_id)  # a pod that cannot start can be stopped, then deleted
    wait_phase(jd, pod_id, "stopped")
    jd.call("deletePod", pod_id)


def test_missing_command_is_a_visible_start_error(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    [pod_id] = jd.create_pods(
        pod_spec(
            jd.account, name("nocmd"), [container(image=image, command=["/no/such/binary"])], restartPolicy="Never"
        )
    )
    pod = wait_phase(jd, pod_id, "stopped")
    term = pod["containers"][0]["containerStatus"]["state"]["terminated"]
    assert term["reason"] == "StartError" and "/no/such/binary" in term["message"]


def test_quota_and_accounts_from_the_cli(podyard: Podyard, image: str) -> None:
    creds = json.loads(podyard.accounts("create", name("team"), "--json"))
    assert set(creds) >= {
        "accessKey",
        "secretKey",
        "endpoint",
        "regionId",
        "vpcId",
        "subnetId",
        "subnetCidr",
        "securityGroupId",
    }
    from drive.jd import Account

    team = podyard.jd(Account.from_creds(creds))
    assert team.call("describeQuota", "pod")["quota"]["used"] == 0
    [pod_id] = team.create_pods(pod_spec(team.account, "t", [container(image=image, command=["sleep", "1000"])]))
    pod = wait_phase(team, pod_id, "running")
    assert ipaddress.ip_address(pod["privateIpAddress"]) in ipaddress.ip_network(creds["subnetCidr"])
    with pytest.raises(JdError) as e:
        podyard.jd().pod(pod_id)
    assert e.value.code == 404


def test_account_standing_from_the_cli(podyard: Podyard, image: str) -> None:
    from drive.jd import Account

    team = name("standing")
    account = Account.from_creds(json.loads(podyard.accounts("create", team, "--json", "--unverified")))
    jd = podyard.jd(account)
    spec = pod_spec(account, "s", [container(image=image, command=["sleep", "1000"])], terminationGracePeriodSeconds=0)
    with pytest.raises(JdError, match="real-name") as e:
        jd.create_pods(spec)
    assert e.value.code == 403
    podyard.accounts("set", team, "--verified")
    [pod_id] = wait_for(lambda: jd.create_pods(spec), 10, "the verified account to create")
    wait_phase(jd, pod_id, "running")
    podyard.accounts("set", team, "--arrears")

    def refused() -> bool:
        try:
            jd.call("deletePod", pod_id)
        except JdError as err:
            return err.code == 403 and "arrears" in err.message
        return False

    assert wait_for(refused, 10, "arrears to refuse deletePod")
    assert jd.pod(pod_id)["podStatus"]["phase"] == "running"
    podyard.accounts("set", team, "--no-arrears")
    wait_for(lambda: jd.call("deletePod", pod_id) is None, 10, "the delete to be accepted")
