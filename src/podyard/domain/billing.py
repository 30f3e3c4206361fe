"""Charge modes and the account standing rules of the docs.

- prepaid pods can only be deleted once expired; postpaid pods any time;
- an account in arrears can neither start nor delete pods;
- an account without real-name verification cannot create pods.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime

from podyard.domain.errors import FailedPrecondition, Forbidden

PREPAID = "prepaid_by_duration"
POSTPAID = "postpaid_by_duration"


@dataclass(frozen=True)
class Charge:
    mode: str
    start: datetime
    expires: datetime | None = None

    def status(self, now: datetime, in_arrears: bool) -> str:
        """The docs' chargeStatus: normal, overdue (prepaid and expired) or arrear."""
        if in_arrears:
            return "arrear"
        if self.expires is not None and now >= self.expires:
            return "overdue"
        return "normal"


def add_months(start: datetime, months: int) -> datetime:
    month0 = start.month - 1 + months
    year, month = start.year + month0 // 12, month0 % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def new_charge(mode: str | None, unit: str | None, duration: int | None, now: datetime) -> Charge:
    if mode == PREPAID:
        months = (duration or 1) * (12 if unit == "year" else 1)
        return Charge(mode=PREPAID, start=now, expires=add_months(now, months))
    return Charge(mode=POSTPAID, start=now)


def check_can_create(verified: bool) -> None:
    if not verified:
        raise Forbidden("the account has not completed real-name verification; createPods is refused")


def check_can_start(in_arrears: bool, pod_id: str) -> None:
    if in_arrears:
        raise Forbidden(f"the account is in arrears; pod {pod_id} cannot be started")


def check_can_delete(charge: Charge, in_arrears: bool, now: datetime, pod_id: str) -> None:
    if in_arrears:
        raise Forbidden(f"the account is in arrears; pod {pod_id} cannot be deleted")
    if charge.mode == PREPAID and charge.expires is not None and now < charge.expires:
        raise FailedPrecondition(
            f"pod {pod_id} is prepaid until {charge.expires:%Y-%m-%dT%H:%M:%SZ}; "
            "only an expired prepaid pod can be deleted"
        )
