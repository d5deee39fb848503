from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import inspect

from refapp import migrate
from refapp.clinic import revision_of, snapshot
from refapp.db import create_db_engine
from refapp.models import Base

HEAD = "0002_next_action_execution_delivery"
NEW_COLUMNS = {
    "snoozed_until",
    "last_executed_at",
    "last_execution_status",
    "last_execution_error_code",
    "last_execution_error_message",
}


def _columns(url: str, table: str) -> frozenset[str]:
    return snapshot(url)[table].columns


def _tables(url: str) -> set[str]:
    return set(snapshot(url))


def test_head_is_0002() -> None:
    assert migrate.head_revision() == HEAD


def test_up_down_up(db_url: str) -> None:
    migrate.upgrade(db_url)
    assert revision_of(db_url) == HEAD
    assert _columns(db_url, "next_actions") >= NEW_COLUMNS
    assert "executions" in _tables(db_url)

    migrate.downgrade(db_url, "0001_base")
    assert revision_of(db_url) == "0001_base"
    assert not NEW_COLUMNS & _columns(db_url, "next_actions")
    assert "executions" not in _tables(db_url)

    migrate.downgrade(db_url, "base")
    assert _tables(db_url) == set()  # alembic_version aside

    migrate.upgrade(db_url)
    assert revision_of(db_url) == HEAD


def test_upgrade_is_idempotent(db_url: str) -> None:
    migrate.upgrade(db_url)
    migrate.upgrade(db_url)
    assert revision_of(db_url) == HEAD


def test_models_match_migrations(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url, pooled=False)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_executions_indexes(db_url: str) -> None:
    migrate.upgrade(db_url)
    engine = create_db_engine(db_url, pooled=False)
    try:
        indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("executions")}
    finally:
        engine.dispose()
    assert indexes["ix_executions_next_action_id"] == ["next_action_id"]
    assert indexes["ix_executions_action_key_started_at"] == ["action_key", "started_at"]


def test_data_survives_downgrade_of_0002(client: TestClient, migrated_url: str) -> None:
    db_url = migrated_url
    created = client.post("/api/e2e/fixtures", json={"nextActions": 2}).json()
    client.app.state.database.dispose()  # type: ignore[attr-defined]
    migrate.downgrade(db_url, "0001_base")
    engine = create_db_engine(db_url, pooled=False)
    try:
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM next_actions").scalar()
    finally:
        engine.dispose()
    assert count == len(created["nextActions"])
    migrate.upgrade(db_url)


def test_concurrent_upgrades_are_serialised(db_url: str) -> None:
    import threading

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            migrate.upgrade(db_url)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert revision_of(db_url) == HEAD
