from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from refapp import ratelimit
from refapp.db import Database
from refapp.ratelimit import LIMIT, WINDOW, check, retry_after_seconds

from .conftest import AppFactory, World


def test_twenty_pass_then_the_21st_waits_for_the_oldest() -> None:
    hits = [1000.0 + i * 0.5 for i in range(LIMIT)]  # 1000.0 .. 1009.5
    now = 1010.2
    decision = check(hits, now)
    assert not decision.allowed
    # the oldest (1000.0) leaves at 1060.0: 49.8 s -> rounded up to 50
    assert decision.retry_after == 50
    # after waiting exactly that long, the request passes
    assert check(hits, now + 50).allowed


def test_nineteen_hits_pass() -> None:
    assert check([1.0] * (LIMIT - 1), 2.0).allowed


def test_hits_leave_the_window_exactly_after_window_seconds() -> None:
    hits = [100.0] * LIMIT
    assert not check(hits, 100.0 + WINDOW - 0.001).allowed
    assert check(hits, 100.0 + WINDOW).allowed


def test_retry_after_rounds_up_and_clamps() -> None:
    assert retry_after_seconds(10.0, 9.99) == 1
    assert retry_after_seconds(10.0, 10.0) == 1  # never 0
    assert retry_after_seconds(70.0, 10.0) == 60
    assert retry_after_seconds(200.0, 10.0) == 60  # clamped
    assert retry_after_seconds(40.2, 10.0) == 31
    assert retry_after_seconds(40.0, 10.0) == 30  # exact integers stay


def test_retry_after_with_more_hits_than_the_limit() -> None:
    # a lowered limit: the request passes once len(live) - limit + 1 hits have left
    hits = [0.0, 1.0, 2.0, 3.0]
    decision = check(hits, 3.5, limit=2, window=10.0)
    # three must leave: the third oldest (2.0) leaves at 12.0, 8.5 s away -> 9
    assert decision.retry_after == 9
    assert check(hits, 3.5 + 9, limit=2, window=10.0).allowed
    assert not check(hits, 3.5 + 8, limit=2, window=10.0).allowed


def test_db_limiter_counts_only_allowed_requests(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [5000.0]
    monkeypatch.setattr(ratelimit, "epoch", lambda: clock[0])
    for _ in range(LIMIT):
        assert ratelimit.hit(database, "user:a").allowed
        clock[0] += 1.0
    # now = 5020; the oldest hit (5000) leaves at 5060
    denied = ratelimit.hit(database, "user:a")
    assert (denied.allowed, denied.retry_after) == (False, 40)
    clock[0] += 10
    assert ratelimit.hit(database, "user:a").retry_after == 30  # 429s were not counted
    assert ratelimit.hit(database, "user:b").allowed  # buckets are separate
    clock[0] = 5060.0
    assert ratelimit.hit(database, "user:a").allowed
    assert not ratelimit.hit(database, "user:a").allowed  # 5001 is still in the window


def test_api_rate_limit_per_user_ignores_forwarded_for(client: TestClient) -> None:
    alice, bob = World(client), World(client)
    nba = alice.nba_ids[0]
    for i in range(LIMIT):
        # bad bodies still count: the limiter runs before body validation
        response = client.post(
            f"/api/next-actions/{nba}/execute",
            content=b"not json" if i % 2 else b'{"actionKey": "nope"}',
            headers={**alice.headers, "X-Forwarded-For": f"10.0.0.{i}"},
        )
        assert response.status_code == 400
    limited = alice.execute(nba, "mark_done", **{"X-Forwarded-For": "10.9.9.9"})
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # unauthenticated requests are not limited (and not counted)
    assert client.post(f"/api/next-actions/{nba}/execute", json={}).status_code == 401
    # another user has a budget of their own
    assert bob.execute(bob.nba_ids[0], "mark_done").status_code == 200


def test_concurrent_requests_across_two_apps_share_one_budget(make_client: AppFactory) -> None:
    import threading

    apps = [make_client(), make_client()]
    world = World(apps[0])
    statuses: list[int] = []
    barrier = threading.Barrier(8)
    lock = threading.Lock()

    def worker(index: int) -> None:
        barrier.wait()
        for _ in range(4):
            response = apps[index % 2].post(
                f"/api/next-actions/{world.nba_ids[0]}/execute",
                content=b"{}",  # answered 400 after counting: fast
                headers=world.headers,
            )
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(statuses) == 32
    assert statuses.count(400) == LIMIT
    assert statuses.count(429) == 32 - LIMIT
