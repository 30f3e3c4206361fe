"""Signatures both ways: what the official SDK signs, podyard verifies; what is tampered
with, podyard refuses (401), never echoing its canonical string."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.core.signer import Signer

from podyard.api import signature as sig
from podyard.api.auth import Authenticator
from podyard.domain.errors import Unauthenticated
from podyard.domain.records import AccountRecord

AK, SK = "AKTEST", "SKTEST"
ACCOUNT = AccountRecord("acct-1", "t", AK, SK, True, False)
HOST = "127.0.0.1:8000"


def sdk_sign(
    method: str, url: str, body: str = "", service: str = "pod", region: str = "cn-north-1", **extra: str
) -> dict[str, str]:
    headers = {"User-Agent": "JdcloudSdkPython/test", "Content-Type": "application/json", **extra}
    Signer(Logger(0)).sign(
        method=method,
        service=service,
        region=region,
        uri=url,
        headers=headers,
        data=body,
        credential=Credential(AK, SK),
        security_token="",
    )
    return headers


def as_received(headers: dict[str, str], host: str = HOST) -> dict[str, list[str]]:
    out = {k.lower(): [v] for k, v in headers.items()}
    out["host"] = [host]
    return out


def auth(clock: float | None = None) -> Authenticator:
    return Authenticator(lambda ak: ACCOUNT if ak == AK else None, 900, (lambda: clock) if clock else time.time)


def verify(a: Authenticator, method: str, url: str, headers: dict[str, list[str]], body: bytes = b"") -> Any:
    parts = urlsplit(url)
    return a.authenticate(method, parts.path, parts.query, headers, body)


def test_sdk_get_and_post_verify() -> None:
    a = auth()
    url = f"http://{HOST}/v1/regions/cn-north-1/pods?pageSize=10&filters.1.name=phase&filters.1.values.1=running"
    caller = verify(a, "GET", url, as_received(sdk_sign("GET", url)))
    assert caller.account.account_id == "acct-1" and caller.service == "pod" and caller.region == "cn-north-1"
    body = '{"podName": "web", "maxCount": 2}'
    url = f"http://{HOST}/v1/regions/cn-north-1/pods:checkPodName"
    assert verify(a, "POST", url, as_received(sdk_sign("POST", url, body)), body.encode()).service == "pod"


# The edge cases of the SDK's own signer_test.py, signed by the SDK, verified here.
SDK_EDGE_PATHS = [
    "/v1/regions/cn-north-1/instances/ /`!@#$%^&*()=+/0123456789/[]\\;',<>?:\"{}|/abcdefghijklmnopqrstuvwxyz/-_.~:GET",
    "/v1/regions/cn-north-1/instances/中文:GET",
    "/v1/%2/%2f/%2b%f",
    "/v1%2Fregions/cn-north-1%2F%2F%2Finstances/ + /+/ +/+ /%2B%20%2B%2F%2F",
    "///v1/regions/cn-north-1/instances//// //x/",
]
SDK_EDGE_QUERIES = [
    "=a&a=a",
    "aa=aa&aa%3Daa=&aa=aa%3D&aa=&aa=aaa&aaa=aaa&aaa=aa&aaa=a&ab=aa&ab=aa&cc=&cc=&bb=aa&bb=",
    " =blank&%2=blank&+=jia0&%2b=jia1&%2B=jia2&blank= %2b%2f%2/&blank=+&%2/blank=%0%f",
    "中文参数=中文参数值",
    "? =blank&%20=blank&+= 2&%2b= 1&blank= &blank=+&blank=%20",
]


@pytest.mark.parametrize("path", SDK_EDGE_PATHS)
def test_sdk_edge_paths(path: str) -> None:
    headers: dict[str, Any] = {"x-jdcloud-nonce": "n-" + path[-6:], "content-type": "application/json"}
    Signer(Logger(0)).signV3("GET", "svc", "cn-north-1", HOST, path, "", headers, "", Credential(AK, SK), "")
    received = {k.lower(): [v] for k, v in headers.items()} | {"host": [HOST]}
    assert auth().authenticate("GET", path, "", received, b"").service == "svc"


@pytest.mark.parametrize("query", SDK_EDGE_QUERIES)
def test_sdk_edge_queries(query: str) -> None:
    headers: dict[str, Any] = {"x-jdcloud-nonce": "nonce", "content-type": "application/json"}
    Signer(Logger(0)).signV3("GET", "svc", "cn-north-1", HOST, "/v1/x", query, headers, "", Credential(AK, SK), "")
    received = {k.lower(): [v] for k, v in headers.items()} | {"host": [HOST]}
    assert auth().authenticate("GET", "/v1/x", query, received, b"").service == "svc"


def test_sdk_signer_vectors_match() -> None:
    """The fixed signatures of the SDK's signer_test.py, computed by podyard's code."""
    headers = {
        "host": ["apigw-internal-dev.cn-north-1.jcloudcs.com:8000"],
        "x-jdcloud-date": ["20190917T064708Z"],
        "x-jdcloud-nonce": ["X-Jdcloud-Nonce"],
        "content-type": ["application/json"],
    }
    signed = ("content-type", "host", "x-jdcloud-date", "x-jdcloud-nonce")
    cases = {
        (
            "/v1/regions/cn-north-1/instances/中文:GET",
            "",
        ): "936ed2dcb6fb4271ad640e0f46f1fe61763a0bad8bb4f4eb1224261f969612fa",
        ("", ""): "44c5ec30b6185516986ae171d8276552bc0f37f6a536a44e4f578958fc1c12be",
        ("/v1/%2/%2f/%2b%f", ""): "6610271450ea321baab326f8debc51a2e4dd7e73b04200275a1d9b3897045caf",
        (
            "/v1/regions/cn-north-1/instances",
            "中文参数=中文参数值",
        ): "7e3094d23adde49fcc99b7d0de911d7ecaa7767590edd57769d7bdbaca919276",
    }
    for (path, query), want in cases.items():
        a = sig.Authorization(
            "JDCLOUD3-HMAC-SHA256",
            "ak",
            "20190917",
            "cn-north-1",
            "apigatewaytestproductline",
            "jdcloud3_request",
            signed,
            want,
        )
        canonical = sig.canonical_request("GET", path, query, headers, signed, b"")
        assert canonical is not None
        assert sig.signature("sk", a, "20190917T064708Z", canonical) == want


def test_jdcloud2_example_of_the_docs() -> None:
    headers = {
        "x-jdcloud-date": ["20190214T104514Z"],
        "x-jdcloud-nonce": ["testnonce"],
        "x-my-header": ["test"],
        "x-my-header_blank": [" blank"],
    }
    signed = tuple(headers)
    canonical = sig.canonical_request(
        "POST", "/v1/resource:action", "p1=p1&p0=p0&o=%&u=u", headers, signed, b"body data"
    )
    a = sig.Authorization(
        "JDCLOUD2-HMAC-SHA256", "TESTAK", "20190214", "cn-north-1", "test", "jdcloud2_request", signed, ""
    )
    assert canonical is not None
    assert (
        sig.signature("TESTSK", a, "20190214T104514Z", canonical)
        == "2a98f83c074e7bee260bfc8ef64f009c07595bd93f7f0c3f4e156bf6479ed9bf"
    )


def jdcloud2_sign(method: str, path: str, query: str, body: bytes, date: str, nonce: str) -> dict[str, list[str]]:
    headers = {
        "host": [HOST],
        "content-type": ["application/json"],
        "x-jdcloud-date": [date],
        "x-jdcloud-nonce": [nonce],
    }
    signed = tuple(sorted(headers))
    canonical = sig.canonical_request(method, path, query, headers, signed, body)
    a = sig.Authorization("JDCLOUD2-HMAC-SHA256", AK, date[:8], "cn-north-1", "pod", "jdcloud2_request", signed, "")
    assert canonical is not None
    s = sig.signature(SK, a, date, canonical)
    headers["authorization"] = [
        f"JDCLOUD2-HMAC-SHA256 Credential={AK}/{date[:8]}/cn-north-1/pod/jdcloud2_request, "
        f"SignedHeaders={';'.join(signed)}, Signature={s}"
    ]
    return headers


def test_jdcloud2_requests_verify() -> None:
    date = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    h = jdcloud2_sign("GET", "/v1/regions/cn-north-1/pods", "pageSize=10", b"", date, "n1")
    assert auth().authenticate("GET", "/v1/regions/cn-north-1/pods", "pageSize=10", h, b"").service == "pod"


URL = f"http://{HOST}/v1/regions/cn-north-1/pods:checkPodName"
BODY = '{"podName": "web"}'


def tampered() -> list[tuple[str, str, str, dict[str, list[str]], bytes, str]]:
    """(case, method, url, headers, body, expected message part)"""

    def fresh() -> dict[str, list[str]]:
        return as_received(sdk_sign("POST", URL, BODY))

    cases = []
    h = fresh()
    cases.append(("body byte", "POST", URL, h, b'{"podName": "wec"}', "does not match"))
    h = fresh()
    cases.append(("path byte", "POST", URL.replace("checkPodName", "checkPodNamf"), h, BODY.encode(), "does not match"))
    h = fresh()
    cases.append(("query added", "POST", URL + "?a=1", h, BODY.encode(), "does not match"))
    h = fresh()
    cases.append(("method", "PUT", URL, h, BODY.encode(), "does not match"))
    h = fresh()
    h["content-type"] = ["application/jsom"]
    cases.append(("signed header byte", "POST", URL, h, BODY.encode(), "does not match"))
    h = fresh()
    h["host"] = ["127.0.0.1:8001"]
    cases.append(("host", "POST", URL, h, BODY.encode(), "does not match"))
    h = fresh()
    del h["content-type"]
    cases.append(("signed header dropped", "POST", URL, h, BODY.encode(), "SignedHeaders is missing"))
    h = fresh()
    h["authorization"] = [h["authorization"][0].replace(AK, "AKOTHER")]
    cases.append(("unknown key", "POST", URL, h, BODY.encode(), "unknown access key"))
    h = fresh()
    h["authorization"] = [h["authorization"][0][:-1] + ("0" if h["authorization"][0][-1] != "0" else "1")]
    cases.append(("signature byte", "POST", URL, h, BODY.encode(), "does not match"))
    h = fresh()
    del h["authorization"]
    cases.append(("unsigned", "POST", URL, h, BODY.encode(), "not signed"))
    h = fresh()
    h["authorization"] = ["Bearer abc"]
    cases.append(("malformed", "POST", URL, h, BODY.encode(), "malformed"))
    h = fresh()
    h["authorization"] = [h["authorization"][0].replace("JDCLOUD3-HMAC", "JDCLOUD9-HMAC")]
    cases.append(("algorithm", "POST", URL, h, BODY.encode(), "algorithm"))
    h = fresh()
    h["authorization"] = [h["authorization"][0].replace("jdcloud3_request", "jdcloud2_request")]
    cases.append(("terminator", "POST", URL, h, BODY.encode(), "ends in"))
    h = fresh()
    del h["x-jdcloud-date"]
    cases.append(("no date", "POST", URL, h, BODY.encode(), "x-jdcloud-date"))
    h = fresh()
    del h["x-jdcloud-nonce"]
    cases.append(("no nonce", "POST", URL, h, BODY.encode(), "nonce"))
    return cases


# Signed when the test runs, not when pytest collects it: a suite that runs longer than
# the 15-minute date window before reaching these would see every case as too old.
@pytest.mark.parametrize("name", [c[0] for c in tampered()])
def test_tampered_requests_are_refused(name: str) -> None:
    _, method, url, headers, body, expected = next(c for c in tampered() if c[0] == name)
    with pytest.raises(Unauthenticated) as e:
        verify(auth(), method, url, headers, body)
    assert expected in e.value.message
    assert "\n" not in e.value.message  # the canonical string is never echoed


def test_date_window_and_scope() -> None:
    h = as_received(sdk_sign("POST", URL, BODY))
    now = time.time()
    verify(auth(now + 14 * 60), "POST", URL, h, BODY.encode())
    with pytest.raises(Unauthenticated, match="minutes"):
        verify(auth(now + 16 * 60), "POST", URL, h, BODY.encode())
    with pytest.raises(Unauthenticated, match="minutes"):
        verify(auth(now - 16 * 60), "POST", URL, h, BODY.encode())
    # A date header that differs from the credential scope's date.
    h = as_received(sdk_sign("POST", URL, BODY))
    stamp = h["x-jdcloud-date"][0]
    other_day = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    h["authorization"] = [h["authorization"][0].replace(f"/{stamp[:8]}/", "/20200101/")]
    with pytest.raises(Unauthenticated, match="credential scope"):
        verify(auth(other_day.timestamp()), "POST", URL, h, BODY.encode())


def test_replays_are_refused_but_new_nonces_pass() -> None:
    a = auth()
    h = as_received(sdk_sign("POST", URL, BODY))
    verify(a, "POST", URL, h, BODY.encode())
    with pytest.raises(Unauthenticated, match="replay"):
        verify(a, "POST", URL, h, BODY.encode())
    # The same request sent twice within a second by the SDK: same signature, new nonce.
    h2 = dict(h)
    h2["x-jdcloud-nonce"] = ["another-nonce"]
    verify(a, "POST", URL, h2, BODY.encode())


@pytest.mark.parametrize("stamp", ["20190917T064708Z", "20261207T235959Z", "20240229T000000Z"])
def test_request_dates_read_as_strptime_reads_them(stamp: str) -> None:
    assert sig.request_time(stamp) == datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    "stamp",
    ["", "20261207T112233", "2026127T112233Z", "20261307T112233Z", "20230229T000000Z", "20261207T246060Z",
     "20261207t112233Z", " 20261207T112233Z", "٢٠٢٦1207T112233Z"],
)  # fmt: skip
def test_request_dates_that_are_not_one_are_refused(stamp: str) -> None:
    with pytest.raises(ValueError):
        sig.request_time(stamp)
