"""The wire itself: signatures over real HTTP, the envelope and request id on every
response, routing errors, limits."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import websocket
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.jdcloudrequest import JDCloudRequest
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.core.signer import Signer

from drive.jd import JdError
from drive.wsjdc import signed_headers


def signed(
    server: Any,
    method: str,
    path: str,
    body: str = "",
    service: str = "pod",
    region: str = "cn-north-1",
    **headers: str,
) -> requests.Response:
    url = f"http://{server.endpoint}{path}"
    h = {"Content-Type": "application/json", **headers}
    Signer(Logger(0)).sign(
        method=method,
        service=service,
        region=region,
        uri=url,
        headers=h,
        data=body,
        credential=Credential(server.admin.access_key, server.admin.secret_key),
        security_token="",
    )
    return requests.request(method, url, data=body.encode(), headers=h, timeout=10)


def envelope(r: requests.Response) -> dict[str, Any]:
    assert r.headers["x-jdcloud-request-id"]
    body = r.json()
    assert body["requestId"] == r.headers["x-jdcloud-request-id"]
    return dict(body)


def test_unsigned_and_tampered_requests_get_401(fake_server) -> None:
    base = f"http://{fake_server.endpoint}/v1/regions/cn-north-1/pods"
    r = requests.get(base, timeout=10)
    assert r.status_code == 401
    err = envelope(r)["error"]
    assert (
        err == {"code": 401, "status": "UNAUTHENTICATED", "message": err["message"]} and "not signed" in err["message"]
    )

    url = base
    h = {"Content-Type": "application/json"}
    Signer(Logger(0)).sign(
        "GET", "pod", "cn-north-1", url, h, "", Credential(fake_server.admin.access_key, "wrong-secret"), ""
    )
    r = requests.get(url, headers=h, timeout=10)
    assert r.status_code == 401 and "does not match" in envelope(r)["error"]["message"]


def test_replayed_request_is_refused(fake_server) -> None:
    url = f"http://{fake_server.endpoint}/v1/regions/cn-north-1/pods"
    h = {"Content-Type": "application/json"}
    Signer(Logger(0)).sign(
        "GET",
        "pod",
        "cn-north-1",
        url,
        h,
        "",
        Credential(fake_server.admin.access_key, fake_server.admin.secret_key),
        "",
    )
    assert requests.get(url, headers=h, timeout=10).status_code == 200
    r = requests.get(url, headers=h, timeout=10)
    assert r.status_code == 401 and "replay" in envelope(r)["error"]["message"]


def test_sdk_edge_paths_verify_over_http(fake_server) -> None:
    # Signed by the SDK and sent as the SDK sends: the signature verifies, so the answer
    # is about the path (404), not about authentication.
    for path in (
        "/v1/regions/cn-north-1/instances/中文:GET",
        "/v1/regions/cn-north-1/pods/a%20b",
        "/v1//regions//cn-north-1/x",
    ):
        r = signed(fake_server, "GET", path)
        assert r.status_code == 404, (path, r.text)
        assert envelope(r)["error"]["status"] == "NOT_FOUND"


def test_routing_errors(fake_server) -> None:
    r = signed(fake_server, "PUT", "/v1/regions/cn-north-1/pods")
    assert r.status_code == 405 and "use GET, POST" in envelope(r)["error"]["message"]
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods/pod-x:explode")
    assert r.status_code == 404
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/vpcs", service="cdn")
    assert r.status_code == 404 and "cdn service" in envelope(r)["error"]["message"]


def test_actions_not_served_yet_fail_loudly(fake_server) -> None:
    jd = fake_server.jd()
    for action in ("describePodTemplates", "describeImageCaches"):
        with pytest.raises(JdError) as e:
            jd.call(action)
        assert (e.value.code, e.value.status) == (501, "NOT_IMPLEMENTED")


def test_huge_body_is_refused_before_anything(fake_server) -> None:
    jd = fake_server.jd()
    with pytest.raises(JdError) as e:
        jd.raw("createPods", {"podSpec": {"description": "x" * (3 * 1024 * 1024)}, "maxCount": 1})
    assert (e.value.code, e.value.status) == (413, "PAYLOAD_TOO_LARGE")
    assert jd.pods()["totalCount"] == 0


def test_body_and_query_discipline(fake_server) -> None:
    r = signed(fake_server, "POST", "/v1/regions/cn-north-1/pods:checkPodName", "{not json")
    assert r.status_code == 400 and "not valid JSON" in envelope(r)["error"]["message"]
    r = signed(fake_server, "POST", "/v1/regions/cn-north-1/pods:checkPodName?x=1", '{"podName": "a"}')
    assert r.status_code == 400
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods", '{"a": 1}')
    assert r.status_code == 400 and "no request body" in envelope(r)["error"]["message"]
    r = signed(fake_server, "POST", "/v1/regions/cn-north-1/pods/pod-x:stopPod", '{"podId": "pod-y"}')
    assert r.status_code == 400 and "differs from the path" in envelope(r)["error"]["message"]
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods?pageSize=10&pageSize=20")
    assert r.status_code == 400 and "more than once" in envelope(r)["error"]["message"]


def test_success_carries_request_id(fake_server) -> None:
    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods")
    assert r.status_code == 200
    assert envelope(r)["result"] == {"pods": [], "totalCount": 0}


def test_the_scope_region_must_be_the_path_region(fake_server) -> None:
    jd = fake_server.jd()

    class Crossed(JDCloudRequest):
        """The SDK signs for the parameters' regionId; this path names another region."""

        def __init__(self, parameters: dict[str, Any]) -> None:
            super().__init__("/regions/cn-north-1/pods:checkPodName", "POST", None, "v1")
            self.parameters = parameters

    with pytest.raises(JdError) as e:
        jd.send(Crossed({"regionId": "cn-east-2", "podName": "crossed"}))
    assert (e.value.code, e.value.status) == (401, "UNAUTHENTICATED")
    assert "'cn-east-2'" in e.value.message and "'cn-north-1'" in e.value.message
    assert jd.call("checkPodName", "crossed")  # signed for the path's region: answered

    r = signed(fake_server, "GET", "/v1/regions/cn-north-1/pods", region="cn-east-2")
    assert r.status_code == 401 and "region 'cn-east-2' is not the path's region" in envelope(r)["error"]["message"]
    r = signed(fake_server, "GET", "/v1/regions/cn-east-2/pods", region="cn-north-1")
    assert r.status_code == 401
    assert signed(fake_server, "GET", "/v1/regions/cn-north-1/pods").status_code == 200

    # A stream's upgrade is refused the same way, before anything of the stream.
    url = f"ws://{fake_server.endpoint}/v1/regions/cn-north-1/pods/pod-x/containers/app:attach"
    with pytest.raises(websocket.WebSocketBadStatusException) as ws:
        websocket.create_connection(url, timeout=5, header=signed_headers(jd.account, url, "cn-east-2"))
    assert ws.value.status_code == 401
