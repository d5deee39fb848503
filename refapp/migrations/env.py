"""Alembic environment of the reference app.

Normally driven by refapp.migrate, which passes an open connection in
`config.attributes["connection"]`. Without one it connects to the URL in the
config's `sqlalchemy.url`, else DATABASE_URL, else the app's default.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect
from sqlalchemy.engine import Connection

from refapp.db import DEFAULT_DATABASE_URL, create_db_engine
from refapp.models import Base

config = context.config
target_metadata = Base.metadata


VERSION_NUM_LENGTH = 64


def _ensure_version_table(connection: Connection) -> None:
    """Create alembic_version with a 64-character version_num before Alembic does.

    Alembic's default is VARCHAR(32), too short for the revision id
    `0002_next_action_execution_delivery` (35) on PostgreSQL; SQLite ignores lengths.
    """
    if connection.dialect.name == "sqlite" or inspect(connection).has_table("alembic_version"):
        return
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(VERSION_NUM_LENGTH), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)


def _configure(connection: Connection) -> None:
    _ensure_version_table(connection)
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    engine = create_db_engine(url, foreign_keys=False, pooled=False)
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
