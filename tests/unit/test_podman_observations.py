"""A pass inspects a pod's containers one by one; the resync lists them all. Both must
describe a container alike, or every resync would take every pod for changed. The
samples are Podman 4.3.1's own answers for one container (trimmed to what is read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from podyard.runtime.podman.driver import LABEL_CONTAINER, _inspected, _observation, _stamp

LABELS = {LABEL_CONTAINER: "app"}


def _listed(state: str, exit_code: int, started: int, exited: int) -> dict[str, object]:
    return {"Labels": LABELS, "State": state, "ExitCode": exit_code, "StartedAt": started, "ExitedAt": exited}


def _inspect(status: str, exit_code: int, started: str, finished: str, oom: bool = False) -> dict[str, object]:
    state = {"Status": status, "ExitCode": exit_code, "StartedAt": started, "FinishedAt": finished, "OOMKilled": oom}
    return {"Config": {"Labels": LABELS}, "State": state}


@pytest.mark.parametrize(
    ("listed", "inspected"),
    [
        (
            _listed("running", 0, 1796623248, -62135596800),
            _inspect("running", 0, "2026-12-07T06:00:48.892717715Z", "0001-01-01T00:00:00Z"),
        ),
        (
            _listed("exited", 137, 1796623248, 1796623248),
            _inspect("exited", 137, "2026-12-07T06:00:48.698454931Z", "2026-12-07T06:00:48.912418352Z"),
        ),
        (
            _listed("created", 0, -62135596800, -62135596800),
            _inspect("created", 0, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ),
    ],
)
def test_the_list_and_the_inspect_see_a_container_alike(listed: dict[str, object], inspected: dict[str, Any]) -> None:
    assert _inspected(inspected) == _observation(listed)


def test_an_out_of_memory_kill_shows_only_in_the_inspect() -> None:
    seen = _inspected(_inspect("exited", 137, "2026-12-07T06:00:48Z", "2026-12-07T06:00:49Z", oom=True))
    assert seen is not None and seen.oom_killed and seen.exit_code == 137
    stopped = _inspected(_inspect("exited", 137, "2026-12-07T06:00:48Z", "2026-12-07T06:00:49Z", oom=False))
    assert stopped is not None and not stopped.oom_killed


def test_the_infra_container_is_not_a_container_of_the_pod() -> None:
    assert _inspected({"Config": {"Labels": {}}, "State": {"Status": "running"}}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-12-07T06:00:48.892717715Z", datetime(2026, 12, 7, 6, 0, 48, tzinfo=UTC)),
        ("2026-12-07T14:00:48.1+08:00", datetime(2026, 12, 7, 6, 0, 48, tzinfo=UTC)),
        ("2026-12-07T06:00:48Z", datetime(2026, 12, 7, 6, 0, 48, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", None),
        ("", None),
        (None, None),
    ],
)
def test_inspect_times_are_read_to_the_second_in_utc(value: str | None, expected: datetime | None) -> None:
    assert _stamp(value) == expected
