"""Arbitrary JSON where the SDK would put each parameter: never a 5xx, and a refused
request changes nothing."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drive.jd import JdError
from tests.api.test_bad_input import body

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

PATHS = [
    "maxCount",
    "clientToken",
    "podSpec",
    "podSpec__name",
    "podSpec__hostname",
    "podSpec__containers",
    "podSpec__containers__0",
    "podSpec__containers__0__command",
    "podSpec__containers__0__env",
    "podSpec__containers__0__image",
    "podSpec__containers__0__systemDisk",
    "podSpec__containers__0__resources",
    "podSpec__containers__0__livenessProbe",
    "podSpec__dnsConfig",
    "podSpec__hostAliases",
    "podSpec__volumes",
    "podSpec__charge",
    "podSpec__primaryNetworkInterface",
    "podSpec__primaryNetworkInterface__networkInterface__securityGroups",
    "podSpec__primaryNetworkInterface__networkInterface__primaryIpAddress",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PATHS), value=json_values)
def test_create_pods_never_fails_inside(fake_server: Any, path: str, value: Any) -> None:
    jd = fake_server.jd()
    before = jd.call("describeQuota", "pod")["quota"]["used"]
    try:
        jd.raw("createPods", body(jd, **{path: value}))
    except JdError as e:
        assert 400 <= e.code < 500, e
        assert jd.call("describeQuota", "pod")["quota"]["used"] == before


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    action=st.sampled_from(
        ["createSecret", "checkPodName", "modifyPodAttribute", "rebuildPod", "resizePod", "execCreate", "resizeTTY"]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "name",
                "secretType",
                "data",
                "podName",
                "maxCount",
                "description",
                "containers",
                "instanceType",
                "containerResources",
                "command",
                "tty",
                "height",
                "width",
                "execId",
            ]
        ),
        json_values,
        max_size=4,
    ),
)
def test_other_bodies_never_fail_inside(fake_server: Any, action: str, params: dict[str, Any]) -> None:
    jd = fake_server.jd()
    try:
        jd.raw(action, {"podId": "pod-nosuchpod0", "containerName": "app", **params})
    except JdError as e:
        assert 400 <= e.code < 500, e
