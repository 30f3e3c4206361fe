from tests.jd import container, pod_spec


def test_create_and_describe(fake_server):
    jd = fake_server.jd()
    ids = jd.create_pods(pod_spec(jd.account, "web", [container(command=["sleep", "100"])]), 2)
    fake_server.settle()
    pods = jd.pods()
    assert pods["totalCount"] == 2
    assert {p["podStatus"]["phase"] for p in pods["pods"]} == {"running"}
    assert sorted(p["podId"] for p in pods["pods"]) == sorted(ids)
