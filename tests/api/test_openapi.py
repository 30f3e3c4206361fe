"""The OpenAPI document of the wire (/openapi.json), and schemathesis against it.

Every served operation gets generated cases, valid by the document and not, each signed
with the official SDK's signer for its service and sent to the app on the fake runtime.
None may answer 5xx (or 401: each is signed right); every error is the JD envelope; a
refused request changes nothing in the store, and neither does a read.
"""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jdcloud_sdk.core.credential import Credential
from jdcloud_sdk.core.logger import Logger
from jdcloud_sdk.core.signer import Signer
from jdcloud_sdk.services.pod.models.DockerRegistryData import DockerRegistryData
from jdcloud_sdk.services.vpc.models.ElasticIpSpec import ElasticIpSpec
from schemathesis import Case, GenerationMode
from schemathesis.core.parameters import ParameterLocation
from sqlalchemy import select

from drive.jd import REGION, container, pod_spec
from drive.jdvpc import JdVpc
from podyard.api import openapi, routes
from podyard.store.tables import Base
from tests.api.test_wire import signed

# One document a service: their paths may meet (the pod's and the disk's /quotas).
DOCS = {service: openapi.document(service) for service in routes.SERVICES}
SCHEMAS = {service: schemathesis.openapi.from_dict(doc) for service, doc in DOCS.items()}
# (path, method, operation): a WebSocket action refuses a plain GET before reading anything.
OPERATIONS = [
    (path, method.upper(), op)
    for doc in DOCS.values()
    for path, item in doc["paths"].items()
    for method, op in item.items()
    if not op.get("x-websocket")
]
# Cases per operation: the coverage phase's edge cases (of a body, COVERAGE_BODY_CASES),
# then fuzzed ones; a query's parameters vary apart, each one more dimension to cover.
COVERAGE_BODY_CASES = 60
EXAMPLES = 10
PER_QUERY_PARAMETER = 2
MINIMUM_CASES = 1000
CASES_RUN: dict[str, int] = {}

# What the reconciler writes back (observed state): it changes on its own, so the
# snapshot leaves it out. Everything a request asks for is in.
OBSERVED = {
    "pods": {
        "phase",
        "phase_reason",
        "phase_message",
        "desired",
        "conditions",
        "start_time",
        "mac_address",
        "materialized_generation",
    },
    "pod_containers": {"status"},
}


def snapshot(server: Any) -> dict[str, list[str]]:
    """Every row of every table, less the observed columns."""
    out: dict[str, list[str]] = {}
    with server.app.ctx.db.read() as s:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in OBSERVED.get(table.name, ())]
            out[table.name] = sorted(repr(tuple(row)) for row in s.execute(select(*columns)))
    return out


def world(server: Any) -> dict[str, str]:
    """A real value for each path parameter: the admin's network, a pod, a secret, an
    elastic IP, a disk and its snapshot, so generated cases reach past "not found"."""
    jd = server.jd()
    account = server.admin
    [pod_id] = jd.create_pods(pod_spec(account, "world", [container(command=["sleep", "3600"])]))
    b64 = [base64.b64encode(v.encode()).decode() for v in ("registry.example:5000", "alice", "secret")]
    jd.call("createSecret", "world", "docker-registry", DockerRegistryData(*b64))
    [eip] = JdVpc(server.endpoint, account).call("createElasticIps", 1, ElasticIpSpec(10, "bgp"))["elasticIpIds"]
    disks: dict[str, str] = {}
    if "disk" in routes.SERVICES:
        from drive.jddisk import JdDisk

        server.app.ctx.disk_capacity = lambda: 2**50  # room whatever this host's disk holds
        dk = JdDisk(server.endpoint, account)
        [disk] = dk.create_disks(1, 20)
        disks = {"diskId": disk, "snapshotId": dk.create_snapshot(disk)}
    server.settle()
    nic = jd.pod(pod_id)["primaryNetworkInterface"]["networkInterface"]["networkInterfaceId"]
    return {
        **disks,
        "regionId": REGION,
        "podId": pod_id,
        "containerName": "app",
        "name": "world",
        "vpcId": account.vpc_id,
        "subnetId": account.subnet_id,
        "networkSecurityGroupId": account.security_group_id,
        "networkInterfaceId": nic,
        "elasticIpId": eip,
    }


def path_region(url: str) -> str:
    """The region in a request's path, as the server reads it."""
    segments = urlsplit(url).path.split("/")
    return unquote(segments[3]) if len(segments) > 3 and segments[2] == "regions" else REGION


def scope_region(url: str) -> str:
    """The region the SDK signs for: the path's, unless no credential scope can hold it
    (then the request is signed for the served region, and refused with 401)."""
    region = path_region(url)
    return region if re.fullmatch(r"[!-~]+", region) and not set(region) & set("/,") else REGION


class SignedBytes(str):
    """A body as the signer hashes it (``data.encode("utf-8")``): the SDK signs text, and
    a generated body may be bytes that are not UTF-8; those are hashed as they are sent."""

    raw: bytes

    def __new__(cls, raw: bytes) -> SignedBytes:
        text = super().__new__(cls, raw.decode("latin-1"))
        text.raw = raw
        return text

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


def send(session: requests.Session, server: Any, service: str, case: Case) -> requests.Response:
    """The case as the SDK would send it: JSON, signed for ``service`` and the path's region
    with the SDK's signer. Headers the case made up (it is told of none but Authorization)
    are left out."""
    kwargs = case.as_transport_kwargs(base_url=f"http://{server.endpoint}")
    headers = {"Content-Type": "application/json"}
    prepared = session.prepare_request(
        requests.Request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            json=kwargs.get("json"),
            data=kwargs.get("data"),
            headers=headers,
        )
    )
    body = prepared.body or b""
    text = SignedBytes(body) if isinstance(body, bytes) else body
    credential = Credential(server.admin.access_key, server.admin.secret_key)
    region = scope_region(str(prepared.url))
    Signer(Logger(0)).sign(prepared.method, service, region, prepared.url, headers, text, credential, "")
    prepared.headers.update(headers)
    return session.send(prepared, timeout=30)


def told(r: requests.Response) -> str:
    return f"{r.request.method} {r.request.url}\nbody: {r.request.body!r}\n→ {r.status_code} {r.text[:500]}"


def unserved(service: str, r: requests.Response) -> bool:
    """Whether the request went to an SDK action podyard answers 501 (a case that changed
    the method may land on one)."""
    route, _, _ = routes.match(service, r.request.method or "", unquote(urlsplit(r.request.url or "").path))
    return route is not None and not route.served


def check_envelope(service: str, r: requests.Response) -> None:
    assert r.status_code < 500 or (r.status_code == 501 and unserved(service, r)), told(r)
    if scope_region(r.request.url or "") == path_region(r.request.url or ""):
        assert r.status_code != 401, "a request signed by the SDK's signer is refused\n" + told(r)
    body = r.json()
    assert body["requestId"] == r.headers["x-jdcloud-request-id"], told(r)
    if r.status_code >= 400:
        assert set(body) == {"requestId", "error"}, told(r)
        error = body["error"]
        assert set(error) == {"code", "status", "message"}, told(r)
        assert error["code"] == r.status_code, told(r)
        assert re.fullmatch(r"[A-Z_]+", error["status"]) and error["message"], told(r)
    else:
        assert set(body) <= {"requestId", "result"}, told(r)


class Probe:
    """Sends an operation's cases to the server and checks each answer."""

    def __init__(self, server: Any, service: str) -> None:
        self.server = server
        self.service = service
        self.session = requests.Session()
        self.sent = 0

    def __call__(self, case: Case) -> None:
        self.sent += 1
        before = snapshot(self.server)
        r = send(self.session, self.server, self.service, case)
        check_envelope(self.service, r)
        if r.status_code >= 400 or r.request.method == "GET":
            assert snapshot(self.server) == before, "the store changed\n" + told(r)
        else:
            self.server.settle()  # what the request set off is done before the next snapshot


def coverage_cases(operation: Any, real: dict[str, str]) -> list[Case]:
    """schemathesis's coverage phase: each parameter at its edges (bounds, widths, types,
    missing, unknown), valid and not. All of a path's and a query's; of a body's (deep,
    they run to a thousand), COVERAGE_BODY_CASES spread over them. A case about a path
    parameter keeps its own; the others act on the real resources."""
    cases = list(
        operation.schema.iter_coverage_cases(
            operation,
            generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=operation.schema.config.generation,
        )
    )
    body = [c for c in cases if location(c) == ParameterLocation.BODY]
    step = -(-len(body) // COVERAGE_BODY_CASES) or 1
    chosen = [c for c in cases if location(c) != ParameterLocation.BODY] + body[::step]
    for case in chosen:
        if location(case) != ParameterLocation.PATH:
            case.path_parameters = {n: real.get(n, v) for n, v in (case.path_parameters or {}).items()}
    return chosen


def location(case: Case) -> ParameterLocation | None:
    """Where a coverage case's scenario is (None: the method, or the whole request)."""
    return getattr(case._meta.phase.data, "parameter_location", None) if case._meta else None


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=[f"{op['operationId']}" for _, _, op in OPERATIONS])
def test_generated_cases(fake_server: Any, path: str, method: str, op: dict[str, Any]) -> None:
    real = world(fake_server)
    operation = SCHEMAS[op[openapi.SERVICE]][path][method]
    probe = Probe(fake_server, op[openapi.SERVICE])
    for case in coverage_cases(operation, real):
        probe(case)

    known = {n: real[n] for n in re.findall(r"\{(\w+)\}", path) if n in real}
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=known),
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"regionId": REGION}),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    query = [p for p in op["parameters"] if p["in"] == "query"]

    @settings(
        max_examples=EXAMPLES + PER_QUERY_PARAMETER * len(query),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=cases)
    def fuzz(case: Case) -> None:
        probe(case)

    fuzz()
    CASES_RUN[op["operationId"]] = probe.sent


def test_at_least_a_thousand_cases() -> None:
    if len(CASES_RUN) < len(OPERATIONS):
        pytest.skip("counts only when every operation ran")
    assert sum(CASES_RUN.values()) >= MINIMUM_CASES, CASES_RUN


@pytest.mark.parametrize(
    ("path", "field"),
    [
        # The 5xx the generated cases found, each now a 400 naming what is wrong.
        ("/v1/regions/cn-north-1/pods?pageNumber=9223372036854775808", "pageNumber"),
        ("/v1/regions/cn-north-1/podsStatus?pageNumber=2147483648", "pageNumber"),
        ("/v1/regions/cn-north-1/secrets?pageNumber=9223372036854775807", "pageNumber"),
        ("/v1/regions/cn-north-1/pods/pod-x/containers/app:getContainerLogs?sinceSeconds=133414652094", "sinceSeconds"),
        ("/v1/regions/cn-north-1/quotas?resourceType=pod&%C2%B3=null", "³"),
    ],
)
def test_what_the_generated_cases_found(fake_server: Any, path: str, field: str) -> None:
    r = signed(fake_server, "GET", path)
    assert r.status_code == 400 and field in r.json()["error"]["message"], told(r)


def test_the_documents_are_served_unsigned(fake_server: Any) -> None:
    url = f"http://{fake_server.endpoint}/openapi.json"
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == DOCS["pod"]
    for service, doc in DOCS.items():
        assert requests.get(url, params={"service": service}, timeout=10).json() == doc
    r = requests.get(url, params={"service": "vm"}, timeout=10)
    assert r.status_code == 404 and "vm" in r.json()["error"]["message"]
    assert requests.get(url, params={"other": "1"}, timeout=10).status_code == 400
    assert requests.get(url, params={"service.1": "pod"}, timeout=10).status_code == 404
    assert requests.post(url, timeout=10).status_code == 401


def test_every_served_action_and_no_other() -> None:
    listed = {
        (op[openapi.SERVICE], method.upper(), path)
        for doc in DOCS.values()
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    for service, table in routes.SERVICES.items():
        for route in table:
            assert ((service, route.method, "/v1" + route.template) in listed) == route.served, route.action


def test_query_parameters_are_spelled_as_the_sdk_flattens_them() -> None:
    pod, vpc = DOCS["pod"]["paths"], DOCS["vpc"]["paths"]
    op = pod["/v1/regions/{regionId}/pods"]["get"]
    params = {p["name"]: p for p in op["parameters"] if p["in"] == "query"}
    assert {"pageNumber", "pageSize", "filters.1.name", "filters.2.values.2", "tags.1.key", "tags.1.values.1"} <= set(
        params
    )
    assert params["pageSize"]["schema"] == {"type": "integer", "format": "int32", "minimum": 10, "maximum": 100}
    assert params["pageNumber"]["schema"] == {"type": "integer", "format": "int32", "minimum": 1, "maximum": 2**31 - 1}
    quota = pod["/v1/regions/{regionId}/quotas"]["get"]
    [resource] = [p for p in quota["parameters"] if p["in"] == "query"]
    assert resource["name"] == "resourceType" and resource["required"]
    create = pod["/v1/regions/{regionId}/pods"]["post"]
    assert create["requestBody"]["required"] and create[openapi.SERVICE] == "pod"
    assert vpc["/v1/regions/{regionId}/quotas/"]["get"][openapi.SERVICE] == "vpc"
