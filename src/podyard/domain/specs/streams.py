"""Request parameters of logs, exec, attach and TTY resize."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from podyard.domain.specs.wire import INTEGER_MAX, Flag, WireModel
from podyard.domain.streams import LOG_LIMIT_BYTES, TTY_HEIGHT, TTY_WIDTH, LogQuery

EXEC_COMMAND_MAX = 4096


def _command(v: list[str]) -> list[str]:
    if not v or not v[0]:
        raise ValueError("must name a program to run")
    if sum(len(x) for x in v) > EXEC_COMMAND_MAX:
        raise ValueError(f"must total at most {EXEC_COMMAND_MAX} characters")
    return v


class ExecCreateRequest(WireModel):
    command: Annotated[list[str], AfterValidator(_command)]
    tty: Flag | None = None


class ExecIdQuery(WireModel):
    exec_id: Annotated[str, Field(min_length=1, max_length=64)]


class ResizeTtyRequest(WireModel):
    height: Annotated[int, Field(ge=TTY_HEIGHT[0], le=TTY_HEIGHT[1])]
    width: Annotated[int, Field(ge=TTY_WIDTH[0], le=TTY_WIDTH[1])]
    exec_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # The jdc CLI names the container "containerId" in the body (its path template's name).
    container_id: str | None = None


def _time(v: object) -> datetime | None:
    if v is None or v == "":
        return None
    if not isinstance(v, str):
        raise ValueError("must be a time such as 2026-01-02T15:04:05Z")
    try:
        parsed = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be a time such as 2026-01-02T15:04:05Z") from None
    if parsed.tzinfo is None:
        raise ValueError("must carry a zone, such as Z or +08:00")
    return parsed


class GetContainerLogsQuery(WireModel):
    tail_lines: Annotated[int, Field(ge=0, le=100_000)] | None = None
    since_seconds: Annotated[int, Field(ge=1, le=INTEGER_MAX)] | None = None
    limit_bytes: Annotated[int, Field(ge=1, le=LOG_LIMIT_BYTES)] | None = None
    # As the API docs define them: startTime is the upper limit of log time, endTime the lower.
    start_time: Annotated[datetime | None, BeforeValidator(_time)] = None
    end_time: Annotated[datetime | None, BeforeValidator(_time)] = None

    @model_validator(mode="after")
    def _order(self) -> GetContainerLogsQuery:
        if self.start_time and self.end_time and self.start_time < self.end_time:
            raise ValueError(
                "startTime is the upper limit of log time and endTime the lower limit (as the API docs "
                "define them): startTime must not be earlier than endTime"
            )
        return self

    def log_query(self, now: datetime) -> LogQuery:
        """The read these parameters ask for; sinceSeconds and endTime both bound it from below."""
        lower = self.end_time
        if self.since_seconds is not None:
            since = now - timedelta(seconds=self.since_seconds)
            lower = max(lower, since) if lower else since
        return LogQuery(
            since=lower,
            until=self.start_time,
            tail_lines=self.tail_lines,
            limit_bytes=self.limit_bytes or LOG_LIMIT_BYTES,
        )
