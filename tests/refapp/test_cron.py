from __future__ import annotations

import threading
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from refapp import cron
from refapp.db import Database
from refapp.models import Job

from .conftest import CRON_SECRET, AppFactory, World

AUTH = {"Authorization": f"Bearer {CRON_SECRET}"}


def test_cron_auth(client: TestClient, make_client: AppFactory) -> None:
    url = "/api/cron/background-jobs"
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": CRON_SECRET}):
        response = client.post(url, headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
    unset = make_client(cron_secret=None)
    assert unset.post(url, headers=AUTH).status_code == 401
    assert unset.post(url, headers={"Authorization": "Bearer "}).status_code == 401


def test_retry_job_is_processed_once(client: TestClient, world: World) -> None:
    nba = world.nba_ids[0]
    assert world.execute(nba, "retry_failed_deliveries").json()["stubbed"] is True
    first = client.post("/api/cron/background-jobs", headers=AUTH)
    assert first.json() == {"ok": True, "processed": 1}
    assert client.post("/api/cron/background-jobs", headers=AUTH).json()["processed"] == 0
    events = world.get("/api/ops/events", type="nba.delivery.retry_job.stub").json()["items"]
    assert [e["nextActionId"] for e in events] == [nba]


def test_locked_run_is_skipped(client: TestClient, database: Database) -> None:
    with cron.cron_lock(database) as acquired:
        assert acquired
        response = client.post("/api/cron/background-jobs", headers=AUTH)
        assert response.json() == {"ok": True, "skipped": "locked"}
    assert client.post("/api/cron/background-jobs", headers=AUTH).json()["processed"] == 0


def test_expired_lease_is_taken_over(database: Database) -> None:
    with cron.cron_lock(database) as acquired:
        assert acquired
        with database.write() as session:
            session.execute(
                cron.update(cron.CronLock).values(lease_until=0.0)  # the holder died
            )
        with cron.cron_lock(database) as second:
            assert second


def test_overlapping_runs_process_each_job_once(make_client: AppFactory) -> None:
    apps = [make_client(), make_client()]
    world = World(apps[0])
    for nba in world.nba_ids:
        assert world.execute(nba, "retry_failed_deliveries").status_code == 200
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(4)

    def worker(index: int) -> None:
        barrier.wait()
        results.append(apps[index % 2].post("/api/cron/background-jobs", headers=AUTH).json())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(r.get("processed", 0) for r in results) == len(world.nba_ids)
    events = world.get("/api/ops/events", type="nba.delivery.retry_job.stub").json()["items"]
    assert sorted(e["nextActionId"] for e in events) == sorted(world.nba_ids)
    database: Database = apps[0].app.state.database  # type: ignore[attr-defined]
    with database.read() as session:
        statuses = set(session.execute(select(Job.status)).scalars())
    assert statuses == {"done"}
