"""Two real server processes sharing one database: the guarantees hold across processes.

A multi-instance deployment keeps rate-limit counters, idempotency keys and the cron lock
in the database; these tests start two `refapp serve` processes on their own ports over
one database and split concurrent requests between them. SQLite always; PostgreSQL too
when REFAPP_TEST_POSTGRES_URL names a server (`.ci/run` starts one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from refapp.ratelimit import LIMIT
from safety.embedded import EmbeddedApp

from .conftest import race_answered

CRON_SECRET = "two-processes-cron-secret"


@pytest.fixture
def servers(clean_db_url: str) -> Iterator[list[str]]:
    """Two server processes, each on its own loopback port, over one database (calls alternate: i % 2)."""
    env = {"DATABASE_URL": clean_db_url, "CRON_SECRET": CRON_SECRET}
    apps = [EmbeddedApp(extra_env=env), EmbeddedApp(extra_env=env)]
    try:
        for app in apps:
            app.start()
        yield [app.url for app in apps]
    finally:
        for app in apps:
            app.stop()


def _user(client: httpx.Client, base: str) -> tuple[dict[str, str], dict[str, Any]]:
    made = client.post(f"{base}/api/e2e/fixtures", json={"nextActions": 2})
    assert made.status_code == 201, made.text
    world = made.json()
    login = client.post(f"{base}/api/auth/login", json=world["user"])
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['token']}"}, world


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=60.0, limits=httpx.Limits(max_connections=100)) as http:
        yield http


def test_rate_limit_is_shared_by_both_processes(servers: list[str], client: httpx.Client) -> None:
    headers, world = _user(client, servers[0])
    nba = world["nextActions"][0]["id"]

    def execute(i: int) -> int:
        # An invalid body: it still counts (section 6), and runs nothing, so only the limiter is timed.
        url = f"{servers[i % 2]}/api/next-actions/{nba}/execute"
        return client.post(url, content=b"{}", headers={**headers, "Content-Type": "application/json"}).status_code

    statuses = race_answered(2 * LIMIT, execute)  # twice the limit: half must be turned away
    assert len([s for s in statuses if s != 429]) == LIMIT, sorted(statuses)
    assert set(statuses) == {400, 429}


def test_one_idempotency_key_makes_one_execution_across_processes(servers: list[str], client: httpx.Client) -> None:
    headers, world = _user(client, servers[0])
    nba = world["nextActions"][0]["id"]

    def execute(i: int) -> httpx.Response:
        return client.post(
            f"{servers[i % 2]}/api/next-actions/{nba}/execute",
            json={"actionKey": "recompute_score"},
            headers={**headers, "Idempotency-Key": "two-processes-race"},
        )

    responses = race_answered(10, execute)
    assert {r.status_code for r in responses} <= {200, 409}, [(r.status_code, r.text) for r in responses]
    ids = {r.json()["executionId"] for r in responses if r.status_code == 200}
    assert len(ids) == 1
    executions = client.get(f"{servers[1]}/api/next-actions/{nba}/executions", headers=headers)
    assert [e["id"] for e in executions.json()["items"]] == list(ids)


def test_overlapping_cron_runs_process_each_job_once(servers: list[str], client: httpx.Client) -> None:
    headers, world = _user(client, servers[0])
    jobs = 0
    for i, nba in enumerate(world["nextActions"]):
        answer = client.post(
            f"{servers[i % 2]}/api/next-actions/{nba['id']}/execute",
            json={"actionKey": "retry_failed_deliveries"},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        jobs += 1

    def cron(i: int) -> dict[str, Any]:
        answer = client.post(
            f"{servers[i % 2]}/api/cron/background-jobs", headers={"Authorization": f"Bearer {CRON_SECRET}"}
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    runs = race_answered(8, cron)
    for body in runs:
        assert body.get("skipped") == "locked" or isinstance(body.get("processed"), int), body
    # Other tests share no database with this one, so every processed job is one of ours.
    assert sum(body.get("processed", 0) for body in runs) == jobs
    events = client.get(
        f"{servers[1]}/api/ops/events", params={"type": "nba.delivery.retry_job.stub"}, headers=headers
    ).json()["items"]
    assert sorted(e["nextActionId"] for e in events) == sorted(n["id"] for n in world["nextActions"])
