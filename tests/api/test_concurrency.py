"""Quotas and addresses under concurrent creates: exact, with no duplicates."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from drive.jd import JdError, container, pod_spec


def test_quota_is_exact_under_concurrent_creates(fake_server) -> None:
    jd = fake_server.jd()  # pod quota 20

    def create(i: int) -> str:
        try:
            fake = fake_server.jd()
            return fake.create_pods(pod_spec(jd.account, f"c{i}", [container()]), 2)[0]
        except JdError as e:
            return f"{e.code}"

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(create, range(16)))
    created = [r for r in results if r.startswith("pod-")]
    assert len(created) == 10 and results.count("429") == 6
    pods = jd.pods(pageSize=100)["pods"]
    assert len(pods) == 20
    assert jd.call("describeQuota", "pod")["quota"] == {"resourceType": "pod", "limit": 20, "used": 20}
    ips = [p["privateIpAddress"] for p in pods]
    assert len(set(ips)) == 20
