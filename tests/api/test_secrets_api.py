"""Registry secrets through the official SDK, on the fake runtime."""

from __future__ import annotations

import base64
import sqlite3

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.DockerRegistryData import DockerRegistryData
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec

from tests.jd import JdError, container, pod_spec


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def data(server: str = "registry.example:5000", user: str = "alice", password: str = "right") -> DockerRegistryData:
    return DockerRegistryData(b64(server), b64(user), b64(password))


def test_secret_lifecycle(fake_server) -> None:
    jd = fake_server.jd()
    assert jd.call("createSecret", "reg", "docker-registry", data()) == {"secretName": "reg"}
    secret = jd.call("describeSecret", "reg")["secret"]
    assert secret["name"] == "reg" and secret["type"] == "docker-registry" and secret["createdAt"]
    assert secret["data"] == {
        "server": b64("registry.example:5000"),
        "username": b64("alice"),
        "password": b64("right"),
        "email": None,
    }
    jd.call("createSecret", "other-reg", "docker-registry", data())
    listed = jd.call("describeSecrets")
    assert listed["totalCount"] == 2 and {s["name"] for s in listed["secrets"]} == {"reg", "other-reg"}
    assert [s["name"] for s in jd.call("describeSecrets", filters=[Filter("name", ["other"])])["secrets"]] == [
        "other-reg"
    ]
    assert jd.call("describeQuota", "secret")["quota"]["used"] == 2
    with pytest.raises(JdError) as e:
        jd.call("createSecret", "reg", "docker-registry", data())
    assert e.value.code == 409
    jd.call("deleteSecret", "other-reg")
    with pytest.raises(JdError) as e:
        jd.call("describeSecret", "other-reg")
    assert e.value.code == 404
    assert jd.call("describeQuota", "secret")["quota"]["used"] == 1


def test_secrets_stay_with_their_account(fake_server) -> None:
    a, b = fake_server.jd(), fake_server.jd(fake_server.new_account("b"))
    a.call("createSecret", "same", "docker-registry", data(password="for-a"))
    b.call("createSecret", "same", "docker-registry", data(password="for-b"))
    assert a.call("describeSecret", "same")["secret"]["data"]["password"] == b64("for-a")
    assert b.call("describeSecret", "same")["secret"]["data"]["password"] == b64("for-b")
    b.call("deleteSecret", "same")
    assert a.call("describeSecret", "same")["secret"]["name"] == "same"


def test_sealed_at_rest(fake_server) -> None:
    jd = fake_server.jd()
    jd.call("createSecret", "sealed", "docker-registry", data(password="Pa55-word-in-the-clear"))
    raw = b""
    for suffix in ("", "-wal"):
        path = fake_server.app.settings.data_dir / f"podyard.db{suffix}"
        if path.exists():
            raw += path.read_bytes()
    assert raw and b"Pa55-word-in-the-clear" not in raw and b64("Pa55-word-in-the-clear").encode() not in raw
    rows = (
        sqlite3.connect(fake_server.app.settings.data_dir / "podyard.db")
        .execute("select sealed from secrets")
        .fetchall()
    )
    assert len(rows) == 1 and len(rows[0][0]) > 28
    key = fake_server.app.settings.data_dir / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600


def test_pods_pull_with_their_secret(fake_server) -> None:
    jd = fake_server.jd()
    jd.call("createSecret", "good", "docker-registry", data(password="right"))
    jd.call("createSecret", "bad", "docker-registry", data(password="wrong"))
    image = "registry.example:5000/team/private-app:1"
    [ok] = jd.create_pods(pod_spec(jd.account, "ok", [container(image=image, secret="good")]))
    [denied] = jd.create_pods(pod_spec(jd.account, "denied", [container(image=image, secret="bad")]))
    [anonymous] = jd.create_pods(pod_spec(jd.account, "anon", [container(image=image)]))
    fake_server.settle()
    assert jd.pod(ok)["podStatus"]["phase"] == "running"
    auth = fake_server.runtime.pull_auth[fake_server.runtime.pulls.index(image)]
    assert (auth.server, auth.username, auth.password) == ("registry.example:5000", "alice", "right")
    for pod_id in (denied, anonymous):
        pod = jd.pod(pod_id)
        waiting = jd.call("describeContainer", pod_id, "app")["container"]["containerStatus"]["state"]["waiting"]
        assert pod["podStatus"]["phase"] == "pending" and "unauthorized" in waiting["message"]
    with pytest.raises(JdError, match=r"is for the registry registry\.example:5000") as e:
        jd.create_pods(pod_spec(jd.account, "elsewhere", [container(image="other.example/app:1", secret="good")]))
    assert e.value.code == 400
    with pytest.raises(JdError, match="used by pod") as e:
        jd.call("deleteSecret", "good")
    assert ok in e.value.message and e.value.code == 400
    jd.call("stopPod", ok)
    fake_server.settle()
    with pytest.raises(JdError, match="secret nosuch not found"):
        jd.call("rebuildPod", ok, [RebuildContainerSpec("app", image, secret="nosuch")])


def test_describe_pod_shows_the_secret_name_only(fake_server) -> None:
    jd = fake_server.jd()
    jd.call("createSecret", "named", "docker-registry", data(password="hidden-pw"))
    [pod_id] = jd.create_pods(pod_spec(jd.account, "p", [container(image="registry.example:5000/x:1", secret="named")]))
    fake_server.settle()
    import json

    shown = json.dumps([jd.pod(pod_id), jd.pods(), jd.call("describePodsStatus")])
    assert '"secret": "named"' in shown and "hidden-pw" not in shown and b64("hidden-pw") not in shown


BAD = [
    ({"name": "Bad_Name"}, "name"),
    ({"secretType": "opaque"}, "secretType"),
    ({"data": None}, "data"),
    ({"data": {"server": b64("r.example"), "username": b64("a")}}, "data.password"),
    ({"data": {"server": "not base64!", "username": b64("a"), "password": b64("p")}}, "data.server"),
    ({"data": {"server": b64("r.example"), "username": b64("a"), "password": b64("p") + "\n"}}, "data.password"),
    ({"data": {"server": b64("r.example"), "username": b64("a"), "password": "QUFB" * 1025}}, "data.password"),
    (
        {"data": {"server": b64("r.example"), "username": b64("a"), "password": b64("p"), "bad key": "x"}},
        "data.bad key",
    ),
    (
        {"data": {"server": b64("r.example"), "username": b64("a"), "password": b64("p"), "token": b64("t")}},
        "data.token",
    ),
    ({"data": {"server": b64("r.example"), "username": b64(""), "password": b64("p")}}, "data.username"),
    ({"data": {"server": b64("not a host!"), "username": b64("a"), "password": b64("p")}}, "data.server"),
    ({"data": {"server": b64("r.example"), "username": b64("a"), "password": 42}}, "data.password"),
]


@pytest.mark.parametrize(("change", "where"), BAD)
def test_malformed_secrets_store_nothing(fake_server, change, where) -> None:
    jd = fake_server.jd()
    body = {
        "name": "s",
        "secretType": "docker-registry",
        "data": {"server": b64("r.example"), "username": b64("a"), "password": b64("p")},
    }
    body.update(change)
    with pytest.raises(JdError) as e:
        jd.raw("createSecret", body)
    assert e.value.code == 400 and where in e.value.message, e.value.message
    assert "cA==" not in e.value.message  # values are never echoed
    assert jd.call("describeSecrets")["totalCount"] == 0


def test_secret_quota(fake_server) -> None:
    jd = fake_server.jd()
    from podyard.services import accounts

    accounts.set_quota(fake_server.app.ctx, "admin", "secret", 2)
    jd.call("createSecret", "s1", "docker-registry", data())
    jd.call("createSecret", "s2", "docker-registry", data())
    with pytest.raises(JdError) as e:
        jd.call("createSecret", "s3", "docker-registry", data())
    assert e.value.code == 429
    assert jd.call("describeQuota", "secret")["quota"] == {"resourceType": "secret", "limit": 2, "used": 2}
