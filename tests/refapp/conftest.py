"""Fixtures for the reference app's own tests: a temp SQLite file per test."""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

with warnings.catch_warnings():
    # Starlette 1.x deprecates httpx under its TestClient; it still works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from refapp import migrate
from refapp.app import create_app
from refapp.config import Settings
from refapp.db import Database, create_db_engine
from testkit.race import race

CRON_SECRET = "test-cron-secret"
T = TypeVar("T")
POSTGRES_SERVER = os.environ.get("REFAPP_TEST_POSTGRES_URL", "")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the REFAPP_TEST_POSTGRES_URL server, dropped afterwards."""
    if not POSTGRES_SERVER:
        pytest.skip(
            "REFAPP_TEST_POSTGRES_URL is not set: point it at a PostgreSQL server where the user may "
            "CREATE DATABASE (bash scripts/test starts a throwaway one) to run this on PostgreSQL"
        )
    name = f"refapp_test_{uuid4().hex[:12]}"
    admin = create_engine(make_url(POSTGRES_SERVER), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated once per run; tests start from a copy of it."""
    path = tmp_path_factory.mktemp("template") / "refapp.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    engine = create_db_engine(f"sqlite:///{path}", pooled=False)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def clean_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once as a SQLite file and once on PostgreSQL (skipped without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clean.sqlite3'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """An empty (unmigrated) database file."""
    return f"sqlite:///{tmp_path / 'refapp.sqlite3'}"


@pytest.fixture
def migrated_url(tmp_path: Path, migrated_template: Path) -> str:
    target = tmp_path / "migrated.sqlite3"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(migrated_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=migrated_url,
        fixtures_enabled=True,
        cron_secret=CRON_SECRET,
        access_log=str(tmp_path / "access.log"),
    )


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: Settings) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def factory(**overrides: Any) -> TestClient:
        client = TestClient(create_app(replace(settings, **overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.database.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture
def database(client: TestClient) -> Database:
    db: Database = client.app.state.database  # type: ignore[attr-defined]
    return db


class World:
    """A fixture user logged in through the API."""

    def __init__(self, client: TestClient, **body: Any) -> None:
        response = client.post("/api/e2e/fixtures", json=body)
        assert response.status_code == 201, response.text
        self.data = response.json()
        self.client = client
        login = client.post("/api/auth/login", json=self.data["user"])
        assert login.status_code == 200, login.text
        client.cookies.clear()
        self.token: str = login.json()["token"]
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.nba_ids: list[str] = [item["id"] for item in self.data["nextActions"]]
        self.lead_id: str = self.data["lead"]["id"]

    def execute(self, nba_id: str, action_key: str, **headers: str) -> Any:
        return self.client.post(
            f"/api/next-actions/{nba_id}/execute",
            json={"actionKey": action_key},
            headers={**self.headers, **headers},
        )

    def get(self, path: str, **params: str) -> Any:
        return self.client.get(path, headers=self.headers, params=params)


@pytest.fixture
def world(client: TestClient) -> World:
    return World(client)


def race_answered(count: int, call: Callable[[int], T]) -> list[T]:
    """`call(0)` .. `call(count - 1)` released together (contracts.api.race); every call must answer."""
    results = race(count, call)
    failed = [r for r in results if isinstance(r, BaseException)]
    assert not failed, f"every concurrent call must answer; got {failed!r}"
    return [r for r in results if not isinstance(r, BaseException)]
