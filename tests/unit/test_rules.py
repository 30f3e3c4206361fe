"""Names, images, addresses, resources, the phase machine, billing and quotas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from podyard.domain import billing, naming, network
from podyard.domain.errors import FailedPrecondition, Forbidden, QuotaExceeded
from podyard.domain.images import parse_image
from podyard.domain.instance_types import INSTANCE_TYPES
from podyard.domain.phases import ALLOWED, LEADS_TO, SETTLES, Action, Desired, Outcome, Phase, check_allowed, settle
from podyard.domain.quotas import ResourceType, check_quota
from podyard.domain.resources import ContainerResources, Quantity, parse_cpu_millis, parse_memory_mb, resources_error


@pytest.mark.parametrize("name", ["a", "web-1", "123-abc", "a" * 63])
def test_dns_labels_ok(name: str) -> None:
    assert naming.dns1123_label_error(name) is None


@pytest.mark.parametrize("name", ["", "A", "-a", "a-", "a_b", "a.b", "a" * 64])
def test_dns_labels_bad(name: str) -> None:
    assert naming.dns1123_label_error(name)


@pytest.mark.parametrize("name", ["example.com", "registry.docker-cn.com", "a"])
def test_subdomains_ok(name: str) -> None:
    assert naming.dns1123_subdomain_error(name) is None


@pytest.mark.parametrize("name", ["", ".a", "a.", "a..b", "A.b", "a" * 254])
def test_subdomains_bad(name: str) -> None:
    assert naming.dns1123_subdomain_error(name)


@pytest.mark.parametrize("name", ["h", "My-Host", "a.b.c", "1abc"])
def test_hostnames_ok(name: str) -> None:
    assert naming.hostname_error(name) is None


@pytest.mark.parametrize("name", ["", "-h", "h-", "a_b", "a..b", "axb" * 22, "a b"])
def test_hostnames_bad(name: str) -> None:
    assert naming.hostname_error(name)


def test_hostname_regex_dot_is_a_dot() -> None:
    # The docs' regex has an unescaped '.', which would let any character join labels.
    assert naming.hostname_error("a#b") is not None


def test_env_names_take_underscore() -> None:
    assert naming.env_name_error("JAVA_HOME") is None
    assert naming.env_name_error("A-B") is not None
    assert naming.env_name_error("E" * 65) is not None


def test_expand_names() -> None:
    assert naming.expand_names("web", 1) == ["web"]
    assert naming.expand_names("web", 3) == ["web1", "web2", "web3"]
    assert naming.expand_names("web-[000]-x", 2) == ["web-000-x", "web-001-x"]
    assert naming.expand_names("[1]web", 2) == ["[1]web1", "[1]web2"]  # not at the first position


@pytest.mark.parametrize(
    ("image", "canonical"),
    [
        ("nginx", "docker.io/library/nginx:latest"),
        ("mysql/mysql-server:8.0", "docker.io/mysql/mysql-server:8.0"),
        ("127.0.0.1:5000/busybox", "127.0.0.1:5000/busybox:latest"),
        ("localhost/team/app:v1", "localhost/team/app:v1"),
        ("registry.example.com/a/b/c@sha256:" + "0" * 64, "registry.example.com/a/b/c@sha256:" + "0" * 64),
    ],
)
def test_images(image: str, canonical: str) -> None:
    assert parse_image(image).canonical == canonical


@pytest.mark.parametrize(
    "image", ["", "UPPER", "a:b:c", "a/:x", "a@sha256:12", "host:99999999999/x" + "/" * 2, "x" * 640]
)
def test_bad_images(image: str) -> None:
    with pytest.raises(ValueError):
        parse_image(image)


def test_addresses() -> None:
    assert network.pod_address_error("10.0.0.5", "10.0.0.0/24") is None
    for reserved in ("10.0.0.0", "10.0.0.1", "10.0.0.255"):
        assert "reserved" in (network.pod_address_error(reserved, "10.0.0.0/24") or "")
    assert "not in" in (network.pod_address_error("10.0.1.5", "10.0.0.0/24") or "")
    assert network.nth_subnet("10.224.0.0/16", 24, 3) == "10.224.3.0/24"
    with pytest.raises(ValueError):
        network.nth_subnet("10.224.0.0/16", 24, 256)


def test_resource_quantities() -> None:
    assert parse_cpu_millis("300m") == 300
    assert parse_cpu_millis("1.5") == 1500
    assert parse_memory_mb("2Gi") == 2048
    assert parse_memory_mb("512") == 512
    for bad in ("0", "0m", "-1", "1.2345", "x"):
        with pytest.raises(ValueError):
            parse_cpu_millis(bad)
    t = INSTANCE_TYPES["g.n2.large"]  # 2 cores, 8 GB
    ok = ContainerResources("a", Quantity(1000, 4096), Quantity(2000, 8192))
    assert resources_error(t, [ok, ok]) is None
    assert "together" in (resources_error(t, [ok, ok, ok]) or "")
    assert "exceeds" in (resources_error(t, [ContainerResources("a", Quantity(), Quantity(None, 9000))]) or "")


def test_phase_table_is_exhaustive() -> None:
    for action in Action:
        for phase in Phase:
            if phase in ALLOWED[action]:
                check_allowed(action, phase, "pod-x")
            else:
                with pytest.raises(FailedPrecondition, match=action.value):
                    check_allowed(action, phase, "pod-x")


def test_phase_rules_of_the_docs() -> None:
    assert ALLOWED[Action.DELETE] == {Phase.STOPPED, Phase.RUNNING, Phase.ERROR}
    assert ALLOWED[Action.START] == {Phase.STOPPED}
    assert ALLOWED[Action.REBUILD] == {Phase.STOPPED} and LEADS_TO[Action.REBUILD][1] == Desired.STOPPED
    assert ALLOWED[Action.RESIZE] == {Phase.STOPPED} and LEADS_TO[Action.RESIZE][1] == Desired.STOPPED
    assert Phase.DELETING not in ALLOWED[Action.MODIFY]
    # Elastic IPs follow the interface in any phase but the pod's deletion.
    for action in (Action.ASSOCIATE, Action.DISASSOCIATE):
        assert ALLOWED[action] == set(Phase) - {Phase.DELETING}


def test_what_a_pass_finds_settles_the_phase() -> None:
    assert settle(Desired.RUNNING, Outcome.CREATING) == (Phase.PENDING, None)
    assert settle(Desired.RUNNING, Outcome.COMPLETED) == (Phase.STOPPED, Desired.STOPPED)  # finished: stays so
    assert settle(Desired.STOPPED, Outcome.CREATING) == (Phase.STOPPED, None)  # a rebuilt pod stays stopped
    for desired in (Desired.RUNNING, Desired.STOPPED):
        assert settle(desired, Outcome.BROKEN)[0] == settle(desired, Outcome.VANISHED)[0] == Phase.ERROR
    # A pass never settles a pod in a transitional phase: only user actions lead there.
    assert {phase for phase, _ in SETTLES.values()} == {Phase.PENDING, Phase.RUNNING, Phase.STOPPED, Phase.ERROR}
    with pytest.raises(ValueError, match="should be stopped and is running"):
        settle(Desired.STOPPED, Outcome.RUNNING)


def test_billing_rules() -> None:
    now = datetime(2026, 1, 31, tzinfo=UTC)
    prepaid = billing.new_charge("prepaid_by_duration", "month", 1, now)
    assert prepaid.expires == datetime(2026, 2, 28, tzinfo=UTC)
    assert billing.new_charge("prepaid_by_duration", "year", 2, now).expires == datetime(2028, 1, 31, tzinfo=UTC)
    with pytest.raises(FailedPrecondition, match="prepaid"):
        billing.check_can_delete(prepaid, False, now + timedelta(days=1), "pod-x")
    billing.check_can_delete(prepaid, False, now + timedelta(days=40), "pod-x")
    postpaid = billing.new_charge(None, None, None, now)
    billing.check_can_delete(postpaid, False, now, "pod-x")
    with pytest.raises(Forbidden, match="arrears"):
        billing.check_can_delete(postpaid, True, now, "pod-x")
    with pytest.raises(Forbidden, match="arrears"):
        billing.check_can_start(True, "pod-x")
    with pytest.raises(Forbidden, match="real-name"):
        billing.check_can_create(False)
    assert prepaid.status(now, False) == "normal"
    assert prepaid.status(now + timedelta(days=40), False) == "overdue"
    assert postpaid.status(now, True) == "arrear"


def test_quota() -> None:
    check_quota(ResourceType.POD, 10, 7, 3)
    with pytest.raises(QuotaExceeded, match="pod quota"):
        check_quota(ResourceType.POD, 10, 8, 3)
