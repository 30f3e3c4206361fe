"""Probes: what one check asks of the runtime, the documented defaults, and the
threshold rule that turns single results into a verdict (pure; no I/O).

A check runs inside the pod (exec in the container; TCP and HTTP from the pod's own
network namespace), so it sees what the pod sees and nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# The docs' defaults (createPods, ProbeSpec).
INITIAL_DELAY_SECONDS = 10
PERIOD_SECONDS = 10
TIMEOUT_SECONDS = 1
FAILURE_THRESHOLD = 3
SUCCESS_THRESHOLD = 1

ProbeKind = Literal["liveness", "readiness"]
LIVENESS_FAILED = "LivenessProbeFailed"
USER_AGENT = "podyard-probe/1"


@dataclass(frozen=True)
class ProbeCheck:
    """One check, as the runtime runs it. ``host`` None means the pod's own address."""

    kind: Literal["exec", "httpGet", "tcpSocket"]
    timeout_seconds: float
    command: tuple[str, ...] = ()
    scheme: Literal["http", "https"] = "http"
    host: str | None = None
    port: int = 0
    path: str = "/"
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    message: str = ""


@dataclass(frozen=True)
class Probe:
    """A container's probe with the defaults applied."""

    check: ProbeCheck
    initial_delay_seconds: int
    period_seconds: int
    failure_threshold: int
    success_threshold: int

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Probe:
        """From a stored ProbeSpec (wire names; validated at the API)."""
        timeout = spec.get("timeoutSeconds") or TIMEOUT_SECONDS
        check: ProbeCheck
        if spec.get("exec"):
            check = ProbeCheck("exec", timeout, command=tuple(spec["exec"]["command"]))
        elif spec.get("httpGet"):
            hg = spec["httpGet"]
            check = ProbeCheck(
                "httpGet",
                timeout,
                scheme="https" if (hg.get("scheme") or "http").lower() == "https" else "http",
                host=hg.get("host") or None,
                port=hg["port"],
                path=hg["path"] if hg["path"].startswith("/") else "/" + hg["path"],
                headers=tuple((h["name"], h["value"]) for h in hg.get("httpHeader") or []),
            )
        else:
            check = ProbeCheck("tcpSocket", timeout, port=spec["tcpSocket"]["port"])
        delay = spec.get("initialDelaySeconds")
        return cls(
            check=check,
            initial_delay_seconds=INITIAL_DELAY_SECONDS if delay is None else delay,
            period_seconds=spec.get("periodSeconds") or PERIOD_SECONDS,
            failure_threshold=spec.get("failureThreshold") or FAILURE_THRESHOLD,
            success_threshold=spec.get("successThreshold") or SUCCESS_THRESHOLD,
        )


def shown(spec: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored ProbeSpec as describePod shows it: with the defaults it runs with."""
    if not spec:
        return None
    defaults = {
        "initialDelaySeconds": INITIAL_DELAY_SECONDS,
        "periodSeconds": PERIOD_SECONDS,
        "timeoutSeconds": TIMEOUT_SECONDS,
        "failureThreshold": FAILURE_THRESHOLD,
        "successThreshold": SUCCESS_THRESHOLD,
    }
    view = {
        **defaults,
        **spec,
        "exec": spec.get("exec"),
        "httpGet": spec.get("httpGet"),
        "tcpSocket": spec.get("tcpSocket"),
    }
    if view["httpGet"]:
        view["httpGet"] = {"scheme": "http", "host": None, "httpHeader": [], **view["httpGet"]}
    return view


def http_ok(status: int) -> bool:
    """The docs: a status from 200 to 399 is a success."""
    return 200 <= status < 400


@dataclass
class Verdict:
    """Consecutive results against the thresholds. ``passing`` starts as given (a
    readiness probe starts failing, a liveness probe passing) and flips only after
    ``success_threshold`` successes or ``failure_threshold`` failures in a row."""

    passing: bool
    successes: int = 0
    failures: int = 0

    def record(self, ok: bool, probe: Probe) -> bool:
        """Count one result; True when ``passing`` flipped."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            flips = not self.passing and self.successes >= probe.success_threshold
        else:
            self.successes, self.failures = 0, self.failures + 1
            flips = self.passing and self.failures >= probe.failure_threshold
        if flips:
            self.passing = not self.passing
        return flips
