"""Engine, sessions and cross-process critical sections.

SQLite: WAL journal, a busy timeout, foreign keys on, and transactions that the app
begins itself. A *write* session starts with `BEGIN IMMEDIATE`, which takes SQLite's
single write lock up front, so every write transaction (rate limiter, idempotency,
cron lock, actions) is serialised across threads *and* processes sharing the file.

PostgreSQL: ordinary READ COMMITTED transactions; critical sections take
`pg_advisory_xact_lock` on a key derived from their name (`Database.lock`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool
from starlette.requests import HTTPConnection

DEFAULT_DATABASE_URL = "sqlite:///./refapp.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 15_000
IMMEDIATE_OPTION = "refapp_begin_immediate"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_*lock, derived from a name."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def storable(value: str, max_length: int = 1000) -> bool:
    """Whether a lookup value can be sent to the database at all (PostgreSQL refuses NUL)."""
    return "\x00" not in value and len(value) <= max_length


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database file to WAL (persistent). Switching needs a moment with no
    other connection in a transaction, and SQLite answers "locked" at once instead of
    waiting: so retry for up to the busy timeout (two processes starting together).
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()
        if mode and str(mode[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
            return  # WAL, or a database that cannot use it (e.g. in memory)
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _install_sqlite_events(engine: Engine, *, foreign_keys: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # The driver must not open transactions behind our back: we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(IMMEDIATE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def create_db_engine(url: str, *, foreign_keys: bool = True, pooled: bool = True) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and app-controlled BEGINs.

    `foreign_keys=False` (SQLite only) is for migrations, which rebuild tables.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **kwargs,
        )
        _install_sqlite_events(engine, foreign_keys=foreign_keys)
        return engine
    if not pooled:
        return create_engine(parsed, poolclass=NullPool)
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """The app's database: one engine, a read and a write session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self.dialect = self.engine.dialect.name
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(**{IMMEDIATE_OPTION: True})
        self._write = sessionmaker(writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgresql(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read transaction (rolled back at the end)."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on error.

        On SQLite it begins with BEGIN IMMEDIATE (the database-wide write lock).
        """
        with self._write() as session, session.begin():
            yield session

    def lock(self, session: Session, name: str) -> None:
        """Serialise a critical section named `name` until the transaction ends.

        SQLite: a write session already holds the database write lock, so nothing to do.
        PostgreSQL: a transaction-scoped advisory lock.
        """
        if self.is_postgresql:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(name)})
        else:
            session.connection()  # emits BEGIN IMMEDIATE now: wait for the write lock here

    def dispose(self) -> None:
        self.engine.dispose()


def get_database(connection: HTTPConnection) -> Database:
    """The Database of the app serving this request (for routers such as refapp.ui)."""
    database: Database = connection.app.state.database
    return database
