"""podyard on PostgreSQL for real: a second ``podyard serve`` whose store is a database of
the tests' PostgreSQL cluster (tests/pg.py), running a pod on Podman through the official
SDK. Its own pools, so it runs beside the session's podyard."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from drive.harness import Podyard, Registry, wait_for, wait_phase
from drive.jd import JdError, container, pod_spec
from tests.pg import PostgresCluster

pytestmark = pytest.mark.e2e


@pytest.fixture
def on_postgres(
    postgres: PostgresCluster, registry: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Podyard]:
    url = postgres.new_database(migrated=False)  # podyard runs the migrations itself
    server = Podyard(
        Path(tmp_path_factory.mktemp("on-postgres")) / "data",
        [registry],
        database_url=url,
        network_pool="10.230.0.0/16",
        elastic_ip_pool="127.104.0.0/24",
        elastic_ip_inner_pool="10.231.0.0/16",
    )
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
        postgres.drop_database(url)


def test_a_pod_runs_with_its_state_in_postgres(on_postgres: Podyard, image: str) -> None:
    jd = on_postgres.jd()
    web = container(image=image, command=["sh", "-c", "echo hi > /tmp/index.html; exec httpd -f -p 8080 -h /tmp"])
    [pod_id] = jd.create_pods(pod_spec(jd.account, f"pg-{uuid.uuid4().hex[:6]}", [web]))
    pod = wait_phase(jd, pod_id, "running")
    assert pod["privateIpAddress"] and pod["containers"][0]["containerStatus"]["state"]["running"]
    assert on_postgres.inspect(f"{pod_id}-app")["State"]["Status"] == "running"
    listed = jd.pods()
    assert [p["podId"] for p in listed["pods"]] == [pod_id] and listed["totalCount"] == 1
    jd.call("deletePod", pod_id)

    def gone() -> bool:
        try:
            jd.pod(pod_id)
        except JdError as e:
            return e.code == 404
        return False

    wait_for(gone, 90, f"pod {pod_id} to be deleted")
    assert pod_id not in on_postgres.podman("pod", "ps", "--format", "{{.Name}}")
