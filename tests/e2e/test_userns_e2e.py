"""Every pod runs in a user namespace of its own: root in a pod is an unprivileged range
of host ids, and no two pods share one."""

from __future__ import annotations

import os
import uuid

import pytest

from drive.harness import Podyard, wait_phase
from drive.jd import container, pod_spec

pytestmark = pytest.mark.e2e


def _sh(podyard: Podyard, pod_id: str, command: str) -> str:
    return podyard.podman("exec", f"{pod_id}-app", "sh", "-c", command)


def test_each_pod_has_its_own_unprivileged_id_range(podyard: Podyard, image: str) -> None:
    jd = podyard.jd()
    spec = pod_spec(
        jd.account,
        f"userns-{uuid.uuid4().hex[:6]}",
        [container(image=image, command=["sh", "-c", "id -u > /tmp/whoami; exec sleep 100000"])],
        terminationGracePeriodSeconds=0,
    )
    ids = jd.create_pods(spec, 2)
    for pod_id in ids:
        wait_phase(jd, pod_id, "running")
    ranges = []
    for pod_id in ids:
        inside, outside, size = (int(x) for x in _sh(podyard, pod_id, "cat /proc/self/uid_map").split())
        assert inside == 0 and size >= 65536
        assert outside >= 2**31 - 1, outside  # not the host's ids: the upper half, unprivileged
        ranges.append(range(outside, outside + size))
        assert _sh(podyard, pod_id, "cat /tmp/whoami").strip() == "0"  # root inside
        # A file root writes in the pod belongs to an unprivileged host uid.
        _sh(podyard, pod_id, "touch /tmp/mine")
        pid = podyard.inspect(f"{pod_id}-app")["State"]["Pid"]
        owner = os.stat(f"/proc/{pid}/root/tmp/mine").st_uid
        assert owner == ranges[-1].start
        gid_map = _sh(podyard, pod_id, "cat /proc/self/gid_map").split()
        assert int(gid_map[1]) == outside
    a, b = ranges
    assert a.stop <= b.start or b.stop <= a.start, (a, b)  # no overlap
    for pod_id in ids:
        jd.call("deletePod", pod_id)
