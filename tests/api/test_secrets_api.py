"""Registry secrets through the official SDK, on the fake runtime."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import pytest
from jdcloud_sdk.services.common.models.Filter import Filter
from jdcloud_sdk.services.pod.models.DockerRegistryData import DockerRegistryData
from jdcloud_sdk.services.pod.models.RebuildContainerSpec import RebuildContainerSpec
from sqlalchemy import text

from drive.jd import JdError, container, pod_spec


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
    for fragment in ("other", "OTHER"):  # blind to case, on every database
        assert [s["name"] for s in jd.call("describeSecrets", filters=[Filter("name", [fragment])])["secrets"]] == [
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


def test_sealed_at_rest(fake_server, request: pytest.FixtureRequest) -> None:
    jd = fake_server.jd()
    jd.call("createSecret", "sealed", "docker-registry", data(password="Pa55-word-in-the-clear"))
    db = fake_server.app.db
    if db.is_sqlite:
        path = Path(db.engine.url.database or "")
        raw = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    else:
        raw = request.getfixturevalue("postgres").stored_bytes(db.url)
    assert raw and b"Pa55-word-in-the-clear" not in raw and b64("Pa55-word-in-the-clear").encode() not in raw
    with db.read() as s:
        rows = s.execute(text("select sealed from secrets")).all()
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


def test_delete_secret_takes_the_account_lock_first(fake_server, monkeypatch: pytest.MonkeyPatch) -> None:
    # createPods checks its containers' secrets under the account's lock; deleteSecret takes
    # it too, before it looks whether the secret is in use (a row lock on PostgreSQL).
    from podyard.store import accounts as account_store
    from podyard.store import secrets as secret_store

    jd = fake_server.jd()
    jd.call("createSecret", "locked", "docker-registry", data())
    with fake_server.app.db.read() as s:
        me = account_store.by_access_key(s, fake_server.app.ctx.secret_box, jd.account.access_key)
    assert me is not None
    events: list[str] = []
    lock, users = account_store.lock_account, secret_store.users

    def spy_lock(s: Any, account_id: str) -> None:
        events.append(f"lock {account_id}")
        lock(s, account_id)

    def spy_users(*args: Any) -> list[str]:
        events.append("users")
        return users(*args)

    monkeypatch.setattr(account_store, "lock_account", spy_lock)
    monkeypatch.setattr(secret_store, "users", spy_users)
    jd.call("deleteSecret", "locked")
    assert events == [f"lock {me.account_id}", "users"]


def race(fake_server: Any, name: str, pod_name: str) -> tuple[Any, Any]:
    """createPods with the secret and deleteSecret of it, released together: each one's
    answer, or its JdError."""
    image = "registry.example:5000/team/app:1"
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def run(what: str, fn: Any) -> None:
        barrier.wait()
        try:
            outcome[what] = fn()
        except JdError as e:
            outcome[what] = e

    creator, deleter = fake_server.jd(), fake_server.jd()
    spec = pod_spec(creator.account, pod_name, [container(image=image, secret=name)])
    threads = [
        threading.Thread(target=run, args=("create", lambda: creator.create_pods(spec))),
        threading.Thread(target=run, args=("delete", lambda: deleter.call("deleteSecret", name))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome["create"], outcome["delete"]


def test_create_pods_and_delete_secret_race_consistently(fake_server) -> None:
    jd = fake_server.jd()
    for round_ in range(6):
        name = f"race-{round_}"
        jd.call("createSecret", name, "docker-registry", data())
        created, deleted = race(fake_server, name, f"p{round_}")
        if isinstance(created, JdError):  # the delete went first: the create finds no secret
            assert created.code == 404 and f"secret {name} not found" in created.message
            assert not isinstance(deleted, JdError)
        else:  # the create went first: the delete is refused, naming the pod
            assert isinstance(deleted, JdError) and deleted.code == 400, deleted
            assert created[0] in deleted.message
            assert jd.call("describeSecret", name)["secret"]["name"] == name
