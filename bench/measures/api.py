"""Section 3: the API's own cost, podyard on the fake runtime against a minimal endpoint on the same
server stack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from drive.harness import free_port, wait_for
from drive.jd import Jd


def section_api(seconds: float, pods: int, workdir: Path) -> dict[str, Any]:
    """The API's own cost: podyard on the fake runtime against a fixed-body endpoint on the
    same server stack, each loaded by one concurrent client process signing as the SDK."""
    out: dict[str, Any] = {}
    port, mport = free_port(), free_port()
    py = sys.executable
    with ExitStack() as stack:
        server = subprocess.Popen(
            [
                py,
                "-m",
                "bench.fake_server",
                "--port",
                str(port),
                "--data-dir",
                str(workdir / "fake"),
                "--pods",
                str(pods),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        stack.callback(server.terminate)
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        wait_for(lambda: _listening(port), 30, "the fake-runtime podyard to listen")
        ak, sk = info["accessKey"], info["secretKey"]

        def load(endpoint: str, action: str, **extra: str) -> dict[str, Any]:
            args = [
                py,
                "-m",
                "bench.load",
                "--endpoint",
                endpoint,
                "--ak",
                ak,
                "--sk",
                sk,
                "--action",
                action,
                "--seconds",
                str(seconds),
            ]
            for k, v in extra.items():
                args += [f"--{k.replace('_', '-')}", v]
            return dict(json.loads(subprocess.run(args, capture_output=True, text=True, check=True).stdout))

        for action, extra in (
            ("describePod", {"pod_id": info["podId"]}),
            ("describePods", {}),
            ("createPods", {"subnet": info["subnetId"], "sg": info["securityGroupId"]}),
        ):
            sample = _sample_size(info, action, port)
            minimal = subprocess.Popen(
                [py, "-m", "bench.minimal_server", "--port", str(mport), "--size", str(sample)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert minimal.stdout is not None
            minimal.stdout.readline()
            wait_for(lambda: _listening(mport), 20, "the minimal endpoint to listen")
            base = load(f"127.0.0.1:{mport}", action, **extra)
            minimal.terminate()
            minimal.wait()
            ours = load(f"127.0.0.1:{port}", action, **extra)
            for side in (base, ours):  # a refused request is no request served: the run is void
                if side["errors"]:
                    raise SystemExit(f"{action}: {side['errors']} requests refused, first: {side['first_error']}")
            out[action] = {
                "podyard": ours,
                "minimal": base,
                "rps_ratio": ours["rps"] / base["rps"],
                "body_bytes": sample,
            }
        server.terminate()
        server.wait()
    return out


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _sample_size(info: dict[str, Any], action: str, port: int) -> int:
    """The size of podyard's answer to this action, for the minimal endpoint to match."""
    from drive.jd import Account

    jd = Jd(f"127.0.0.1:{port}", Account.from_creds(info))
    if action == "describePod":
        return len(json.dumps({"requestId": "0" * 32, "result": {"pod": jd.pod(info["podId"])}}))
    if action == "describePods":
        return len(json.dumps({"requestId": "0" * 32, "result": jd.pods(pageSize=20)}))
    return len(json.dumps({"requestId": "0" * 32, "result": {"podIds": ["pod-0123456789"]}}))
