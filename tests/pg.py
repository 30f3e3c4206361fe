"""A throwaway PostgreSQL cluster for the tests: Debian's binaries, a data directory and a
unix socket in a temporary directory, run as the ``postgres`` user when the tests run as
root (initdb refuses root). It listens on no TCP port. Each test gets a database of its
own, made from a template and dropped afterwards."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from podyard.store.db import Database

# scripts/test sets it: there a missing PostgreSQL fails the run instead of skipping its tests.
REQUIRED_ENV = "PODYARD_TEST_POSTGRES"
USER = "postgres"
MIGRATED = "podyard_migrated"
EMPTY = "template1"
TIMEZONE = "Asia/Shanghai"


class Unavailable(RuntimeError):
    pass


def _bindir() -> Path:
    """Debian's newest server binaries (/usr/lib/postgresql/VERSION/bin), else the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    raise Unavailable("PostgreSQL's server is not installed: scripts/bootstrap --test installs Debian's postgresql")


def _name(url: str) -> str:
    return make_url(url).database or ""


class PostgresCluster:
    """One cluster per test session; :meth:`new_database` hands out fresh databases."""

    def __init__(self) -> None:
        self.bindir = _bindir()
        self._as: list[str] = []
        owner = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(USER)
            except KeyError:
                raise Unavailable(f"no user {USER!r}: Debian's postgresql package makes it") from None
            self._as = ["runuser", "-u", USER, "--"]
        self.root = Path(tempfile.mkdtemp(prefix="podyard-pg-"))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self._names = itertools.count(1)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8", "--no-locale", "--no-sync")
        # Durability is of no use to a throwaway cluster: fsync and friends off. Its time
        # zone is not UTC, so that a time read back in the server's zone shows.
        options = (
            f"-k {self.root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c max_connections=200 -c timezone={TIMEZONE}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        try:
            self._admin = psycopg.connect(host=str(self.root), user=USER, dbname="postgres", autocommit=True)
            # The template of the tests' databases: Alembic's upgrade from empty, once.
            self._create(MIGRATED, EMPTY)
            db = Database(self.url(MIGRATED))
            db.migrate()
            db.close()
        except BaseException:
            self.stop()
            raise

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run([*self._as, str(self.bindir / program), *args], capture_output=True, text=True)
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{program} failed: {done.stdout}{done.stderr}{log}")

    def url(self, name: str) -> str:
        return f"postgresql+psycopg://{USER}@/{name}?host={self.root}"

    def _create(self, name: str, template: str) -> None:
        self._admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )

    def new_database(self, *, migrated: bool = True) -> str:
        """A new database's URL: with podyard's tables (at the newest migration), or empty."""
        name = f"test_{next(self._names)}"
        self._create(name, MIGRATED if migrated else EMPTY)
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = _name(url)
        self._admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stored_bytes(self, url: str) -> bytes:
        """What the database's own files hold, as an intruder with a copy of them would read
        it (after a checkpoint, everything committed is in them; the write-ahead log is
        the whole cluster's, shared by every test, and left out)."""
        name = _name(url)
        self._admin.execute("CHECKPOINT")
        row = self._admin.execute("SELECT oid FROM pg_database WHERE datname = %s", (name,)).fetchone()
        assert row is not None, name
        return b"".join(f.read_bytes() for f in sorted((self.data / "base" / str(row[0])).iterdir()) if f.is_file())

    def stop(self) -> None:
        admin = getattr(self, "_admin", None)
        if admin is not None:
            admin.close()
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
