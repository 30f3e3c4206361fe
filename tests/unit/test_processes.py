"""Killing an exec's processes signals only processes still in the container's cgroup,
through pidfds (runtime/podman/processes.py), with real processes of this machine."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from podyard.runtime.podman import processes


@pytest.fixture
def tree() -> Iterator[subprocess.Popen[bytes]]:
    # The shell blocks on its stdin, not on its children: killed sleeps must not let it
    # exit on its own before kill_tree reaches it (a zombie has left its cgroup).
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & read _"], stdin=subprocess.PIPE)
    deadline = time.monotonic() + 10
    while _commands(processes.descendants(proc.pid)) != ["sh", "sleep", "sleep"]:
        # the shell and its two sleeps, each past its exec (a child just forked is a
        # second shell for a moment, and may be gone and back as sleep)
        assert time.monotonic() < deadline, "the process tree did not start"
        time.sleep(0.01)
    yield proc
    proc.kill()
    proc.wait()
    assert proc.stdin is not None
    proc.stdin.close()


def _commands(pids: list[int]) -> list[str]:
    names = []
    for pid in pids:
        try:
            names.append(Path(f"/proc/{pid}/comm").read_text().strip())
        except OSError:
            names.append("?")
    return sorted(names)


def test_a_tree_in_the_cgroup_is_killed(tree: subprocess.Popen[bytes]) -> None:
    cgroup = processes.cgroup_of(tree.pid)
    assert cgroup is not None
    assert processes.kill_tree(tree.pid, cgroup) == 3
    assert tree.wait(10) == -9


def test_processes_outside_the_cgroup_are_never_signalled(tree: subprocess.Popen[bytes]) -> None:
    assert processes.kill_tree(tree.pid, "0::/some/other/container\n") == 0
    assert tree.poll() is None
    assert len(processes.descendants(tree.pid)) == 3


def test_a_gone_process_has_no_cgroup() -> None:
    proc = subprocess.Popen(["true"])
    proc.wait()
    assert processes.cgroup_of(proc.pid) is None
    assert processes.kill_tree(proc.pid, "0::/podyard-test-nowhere\n") == 0
