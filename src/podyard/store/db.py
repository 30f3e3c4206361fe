"""The database: engine set-up, migrations on start, and read/write transactions.

SQLite runs in WAL mode. Write transactions begin IMMEDIATE, so concurrent
writers queue on the database lock instead of failing half-way: a quota check
and the insert it guards are one serialized step. On PostgreSQL the same code
takes row locks (``with_for_update``).
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from podyard.store.crypto import SecretBox

MIGRATIONS = Path(__file__).parent / "migrations"
# PostgreSQL's advisory lock (a transaction's) that migrations hold: podyard's own number.
MIGRATION_LOCK = 0x706F6479617264  # "podyard"
T = TypeVar("T")


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy, not pysqlite, emits BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("podyard_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def with_driver(url: str) -> str:
    """The URL with podyard's driver for its database: a plain ``postgresql://`` (or
    ``postgres://``) URL means psycopg 3, which podyard depends on."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url


class Database:
    def __init__(self, url: str) -> None:
        self.url = with_driver(url)
        self.is_sqlite = self.url.startswith("sqlite")
        # Work that waits on the database runs here, off the event loop. SQLite has one
        # writer at a time: one thread queues its work without lock convoys between
        # threads fighting for the GIL (measured: 3x the create rate of a pool of 32).
        workers = 1 if self.is_sqlite else 16
        kwargs: dict[str, Any]
        if self.is_sqlite:
            kwargs = {"connect_args": {"check_same_thread": False, "timeout": 30}, "pool_size": 16}
        else:
            # A connection for each worker, and a few for reads made elsewhere (key lookups).
            kwargs = {"pool_size": workers, "max_overflow": 8}
        self.engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._local = threading.local()
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="podyard-db")
        self._write = sessionmaker(self.engine.execution_options(podyard_write=True), expire_on_commit=False)

    def migrate(self, secret_box: SecretBox | None = None) -> None:
        """Bring the schema to the newest Alembic revision. ``secret_box``: for migrations
        that seal what was kept clear (0006, accounts' secret keys); an empty database
        needs none."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection_url"] = self.url
        cfg.attributes["secret_box"] = secret_box
        with self.engine.begin() as conn:
            if not self.is_sqlite:  # replicas starting together migrate one after the other
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
        if cfg.attributes.get("scrub"):
            self.scrub(sorted(cfg.attributes["scrub"]))

    def scrub(self, tables: list[str]) -> None:
        """Rewrite the files of ``tables`` (SQLite: the whole database) so that values a
        migration replaced in place, e.g. a clear secret it sealed, leave no old copy in
        free pages, dead rows or the write-ahead log. Outside any transaction."""
        raw = self.engine.raw_connection()
        try:
            conn: Any = raw.driver_connection
            if self.is_sqlite:  # isolation_level None (see _sqlite_setup): no implicit BEGIN
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                conn.commit()
                conn.autocommit = True
                for table in tables:
                    conn.execute(f'VACUUM FULL "{table}"')
                conn.autocommit = False
        finally:
            raw.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self, conflict: Exception | None = None) -> Iterator[Session]:
        """A write transaction. ``conflict``: raised instead of the database's unique-key
        violation (a concurrent writer made it past the caller's checks): the store's
        exceptions stay in the store."""
        try:
            with self._write() as session, session.begin():
                yield session
        except IntegrityError as e:
            if conflict is None:
                raise
            raise conflict from e

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking store work on the database's executor."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, functools.partial(fn, *args))

    @contextmanager
    def raw_read(self) -> Iterator[Any]:
        """A read transaction on a plain DBAPI connection of this thread (SQLite only):
        for the request path, where SQLAlchemy's statement machinery costs ten times the
        query itself. Rows come back as sqlite3.Row."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.engine.url.database or "", isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA query_only=1")
            self._local.conn = conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        self.executor.shutdown(wait=False)
        self.engine.dispose()
