"""Apply the Alembic migrations programmatically (script location from the package).

Concurrent start-ups are serialised: on SQLite the whole migration runs in one
BEGIN IMMEDIATE transaction (SQLite's DDL is transactional), so a second process
waits and then finds the database at head; on PostgreSQL a transaction-scoped
advisory lock does the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from refapp.db import IMMEDIATE_OPTION, advisory_key, create_db_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_LOCK_NAME = "refapp.migrations"


def alembic_config(url: str, script_location: Path = MIGRATIONS_DIR) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _run(url: str, revision: str, *, up: bool, script_location: Path = MIGRATIONS_DIR) -> None:
    engine: Engine = create_db_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.execution_options(**{IMMEDIATE_OPTION: True}).begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": advisory_key(_LOCK_NAME)})
            config = alembic_config(url, script_location)
            config.attributes["connection"] = connection
            if up:
                command.upgrade(config, revision)
            else:
                command.downgrade(config, revision)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head", script_location: Path = MIGRATIONS_DIR) -> None:
    """`alembic upgrade <revision>` (default head)."""
    _run(url, revision, up=True, script_location=script_location)


def downgrade(url: str, revision: str, script_location: Path = MIGRATIONS_DIR) -> None:
    """`alembic downgrade <revision>` (e.g. "base" or "0001_base")."""
    _run(url, revision, up=False, script_location=script_location)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
