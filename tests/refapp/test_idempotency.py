from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refapp import actions

from .conftest import AppFactory, World


def _executions(world: World, nba_id: str) -> list[dict[str, Any]]:
    response = world.get(f"/api/next-actions/{nba_id}/executions")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_replay_returns_the_first_answer_and_runs_nothing(world: World) -> None:
    nba = world.nba_ids[0]
    first = world.execute(nba, "recompute_score", **{"Idempotency-Key": "k-1"})
    assert first.status_code == 200
    assert "idempotent-replayed" not in first.headers
    again = world.execute(nba, "recompute_score", **{"Idempotency-Key": "k-1"})
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert len(_executions(world, nba)) == 1


def test_replay_of_a_failure_is_the_same_500(client: TestClient) -> None:
    world = World(client, failingActions=["run_risk_rules"])
    nba = world.nba_ids[0]
    first = world.execute(nba, "run_risk_rules", **{"Idempotency-Key": "f"})
    assert first.status_code == 500
    assert first.json()["error"]["code"] == "execution_failed"
    again = world.execute(nba, "run_risk_rules", **{"Idempotency-Key": "f"})
    assert (again.status_code, again.json()) == (500, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_executions(world, nba)) == 1


def test_reuse_with_another_id_or_action_is_422(world: World) -> None:
    one, two = world.nba_ids[:2]
    assert world.execute(one, "snooze_1d", **{"Idempotency-Key": "r"}).status_code == 200
    for nba, key in ((one, "mark_done"), (two, "snooze_1d")):
        response = world.execute(nba, key, **{"Idempotency-Key": "r"})
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert _executions(world, two) == []


def test_keys_are_per_user(client: TestClient) -> None:
    alice, bob = World(client), World(client)
    a = alice.execute(alice.nba_ids[0], "mark_done", **{"Idempotency-Key": "same"})
    b = bob.execute(bob.nba_ids[0], "mark_done", **{"Idempotency-Key": "same"})
    assert (a.status_code, b.status_code) == (200, 200)
    assert "idempotent-replayed" not in b.headers
    assert a.json()["executionId"] != b.json()["executionId"]


def test_requests_answered_before_step_5_do_not_use_the_key(world: World) -> None:
    missing = world.execute("does-not-exist", "mark_done", **{"Idempotency-Key": "early"})
    assert missing.status_code == 404
    bad = world.client.post(
        f"/api/next-actions/{world.nba_ids[0]}/execute",
        json={"actionKey": "nope"},
        headers={**world.headers, "Idempotency-Key": "early"},
    )
    assert bad.status_code == 400
    ok = world.execute(world.nba_ids[0], "mark_done", **{"Idempotency-Key": "early"})
    assert ok.status_code == 200
    assert "idempotent-replayed" not in ok.headers


def test_empty_key_counts_as_absent(world: World) -> None:
    nba = world.nba_ids[0]
    for _ in range(2):
        assert world.execute(nba, "recompute_score", **{"Idempotency-Key": ""}).status_code == 200
    assert len(_executions(world, nba)) == 2


def test_key_lengths(world: World) -> None:
    nba = world.nba_ids[0]
    assert world.execute(nba, "recompute_score", **{"Idempotency-Key": "x"}).status_code == 200
    assert world.execute(nba, "snooze_1d", **{"Idempotency-Key": "y" * 255}).status_code == 200
    too_long = world.execute(nba, "mark_done", **{"Idempotency-Key": "z" * 256})
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "invalid_idempotency_key"
    # the id is checked first (step 4 before step 5)
    unknown = world.execute("missing", "mark_done", **{"Idempotency-Key": "z" * 256})
    assert unknown.status_code == 404


def test_concurrent_same_key_runs_once_across_two_apps(
    make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two app instances (as two processes would) share one SQLite file."""
    first_app, second_app = make_client(), make_client()
    world = World(first_app)
    nba = world.nba_ids[0]
    real_apply = actions.apply_action

    def slow_apply(*args: Any, **kwargs: Any) -> dict[str, Any]:
        time.sleep(0.3)
        return real_apply(*args, **kwargs)

    monkeypatch.setattr(actions, "apply_action", slow_apply)
    barrier = threading.Barrier(6)
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        app = first_app if index % 2 else second_app
        barrier.wait()
        response = app.post(
            f"/api/next-actions/{nba}/execute",
            json={"actionKey": "recompute_score"},
            headers={**world.headers, "Idempotency-Key": "race"},
        )
        with lock:
            results.append((response.status_code, response.json()))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 6
    assert {status for status, _ in results} <= {200, 409}
    ids = {body["executionId"] for status, body in results if status == 200}
    assert len(ids) == 1
    assert len(_executions(world, nba)) == 1
