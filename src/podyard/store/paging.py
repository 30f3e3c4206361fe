"""One page of a listing, as the VPC service's docs want it: a page number past the last
page shows the last page (domain/vpcs.last_page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from podyard.domain.vpcs import last_page


def page_rows(session: Session, query: Any, order: Any, number: int, size: int) -> tuple[Any, int]:
    """The rows of page ``number`` of ``query`` in ``order``, and the total count."""
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    number = last_page(number, size, total)
    return session.scalars(query.order_by(*order).offset((number - 1) * size).limit(size)).all(), total


def page_list(rows: list[Any], number: int, size: int) -> tuple[list[Any], int]:
    """The same page of rows filtered in Python (e.g. by tags)."""
    number = last_page(number, size, len(rows))
    return rows[(number - 1) * size : number * size], len(rows)
