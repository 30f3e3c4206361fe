"""Inserts that can lose a race: a row whose unique value (an elastic IP's address, a
default subnet's block of the host pool) was chosen from what was free when read, and
that a concurrent transaction may have taken since. On PostgreSQL such an insert fails
on the unique key; made in a savepoint, losing costs the savepoint only, and the caller
chooses again from what is free then. SQLite serializes writers: there it never loses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

RETRIES = 5


def insert_unless_taken(session: Session, *batches: Sequence[Any]) -> bool:
    """Insert the batches in order (a batch's rows may refer to an earlier batch's) in a
    savepoint; False if a unique key was taken meanwhile, and then nothing is inserted.
    What the transaction holds already is flushed first: its own failures are not a lost
    race."""
    session.flush()
    try:
        with session.begin_nested():
            for batch in batches:
                session.add_all(batch)
                session.flush()
    except IntegrityError:
        for row in (r for batch in batches for r in batch):
            if row in session:
                session.expunge(row)
        return False
    return True
