"""The same app on PostgreSQL. Skipped unless REFAPP_TEST_POSTGRES_URL names a server
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres) where the user may
CREATE DATABASE; each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient

from refapp import migrate
from refapp.app import create_app
from refapp.config import Settings
from refapp.db import create_db_engine
from refapp.models import Base
from refapp.ratelimit import LIMIT

from .conftest import CRON_SECRET, World, race_answered


@pytest.fixture
def pg_clients(pg_url: str) -> Iterator[list[TestClient]]:
    settings = Settings(database_url=pg_url, fixtures_enabled=True, cron_secret=CRON_SECRET)
    clients = [TestClient(create_app(settings)) for _ in range(2)]
    for client in clients:
        client.__enter__()
    yield clients
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.database.dispose()  # type: ignore[attr-defined]


def test_migrations_up_down_up_and_models_match(pg_url: str) -> None:
    migrate.upgrade(pg_url)
    migrate.downgrade(pg_url, "0001_base")
    migrate.downgrade(pg_url, "base")
    migrate.upgrade(pg_url)
    engine = create_db_engine(pg_url, pooled=False)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def _race(clients: list[TestClient], count: int, call: Any) -> list[Any]:
    """`call(client)` on `count` threads at once, the clients taken in turn."""
    return race_answered(count, lambda n: call(clients[n % len(clients)]))


def test_rate_limit_idempotency_and_cron_under_concurrency(pg_clients: list[TestClient]) -> None:
    world = World(pg_clients[0])
    nba = world.nba_ids[0]

    def same_key(client: TestClient) -> tuple[int, Any]:
        response = client.post(
            f"/api/next-actions/{nba}/execute",
            json={"actionKey": "retry_failed_deliveries"},
            headers={**world.headers, "Idempotency-Key": "pg-race"},
        )
        return response.status_code, response.json()

    results = _race(pg_clients, 6, same_key)
    assert {status for status, _ in results} <= {200, 409}
    assert len({body["executionId"] for status, body in results if status == 200}) == 1
    assert len(world.get(f"/api/next-actions/{nba}/executions").json()["items"]) == 1

    auth = {"Authorization": f"Bearer {CRON_SECRET}"}
    crons = _race(pg_clients, 4, lambda c: c.post("/api/cron/background-jobs", headers=auth).json())
    assert sum(r.get("processed", 0) for r in crons) == 1

    def spend(client: TestClient) -> int:
        return client.post(f"/api/next-actions/{nba}/execute", content=b"{}", headers=world.headers).status_code

    statuses = _race(pg_clients, 30, spend)
    assert statuses.count(429) == 30 - (LIMIT - 6)  # 6 were spent by the race above


def test_nul_bytes_are_not_found_not_500(pg_clients: list[TestClient]) -> None:
    client = pg_clients[0]
    world = World(client)
    assert world.get("/api/next-actions/a%00b").status_code == 404
    assert world.get("/api/next-actions/a%00b/executions").status_code == 404
    assert world.execute("a%00b", "mark_done").status_code == 404
    assert world.get("/api/leads/a%00b").status_code == 404
    assert world.get("/api/ops/events", nextActionId="a\x00", type="b\x00").json()["items"] == []
    login = client.post("/api/auth/login", json={"email": "a\x00b", "password": "x"})
    assert login.status_code == 401
