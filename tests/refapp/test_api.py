from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from refapp.actions import ACTION_KEYS, FIXTURE_SECRET
from refapp.config import ConfigError, Settings

from .conftest import AppFactory, World


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)


def test_health(client: TestClient) -> None:
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/nope", 404, "not_found"),
        ("GET", "/api/next-actions/", 404, "not_found"),
        ("DELETE", "/api/health", 405, "method_not_allowed"),
        ("GET", "/api/next-actions", 401, "unauthorized"),
        ("GET", "/docs", 404, "not_found"),
    ],
)
def test_error_shape(client: TestClient, method: str, path: str, status: int, code: str) -> None:
    _error(client.request(method, path), status, code)


def test_fixtures_disabled_is_404(make_client: AppFactory) -> None:
    client = make_client(fixtures_enabled=False)
    _error(client.post("/api/e2e/fixtures", json={}), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"not json",
        b'{"nextActions": 0}',
        b'{"nextActions": 51}',
        b'{"nextActions": "3"}',
        b'{"nextActions": true}',
        b'{"nextActions": 2.5}',
        b'{"failingActions": "mark_done"}',
        b'{"failingActions": ["explode"]}',
    ],
)
def test_fixtures_bad_body(client: TestClient, body: bytes) -> None:
    _error(client.post("/api/e2e/fixtures", content=body), 400, "invalid_body")


def test_fixtures_titles_unique_and_not_nested(client: TestClient) -> None:
    empty = client.post("/api/e2e/fixtures")
    assert empty.status_code == 201
    assert len(empty.json()["nextActions"]) == 3
    titles = [item["title"] for item in empty.json()["nextActions"]]
    titles += [i["title"] for i in client.post("/api/e2e/fixtures", json={"nextActions": 50}).json()["nextActions"]]
    assert len(set(titles)) == len(titles)
    for a in titles:
        for b in titles:
            assert a == b or a not in b


def test_login_errors(client: TestClient, world: World) -> None:
    _error(client.post("/api/auth/login", content=b"[1]"), 400, "invalid_body")
    _error(client.post("/api/auth/login", json={"email": "x"}), 400, "invalid_body")
    _error(client.post("/api/auth/login", json={"email": 1, "password": "x"}), 400, "invalid_body")
    user = world.data["user"]
    wrong_pw = client.post("/api/auth/login", json={**user, "password": "wrong"})
    wrong_email = client.post("/api/auth/login", json={**user, "email": "nobody@example.test"})
    _error(wrong_pw, 401, "invalid_credentials")
    assert wrong_pw.json() == wrong_email.json()


def test_cookie_and_bearer_and_logout(client: TestClient, world: World) -> None:
    login = client.post("/api/auth/login", json=world.data["user"])
    cookie = login.headers["set-cookie"]
    assert cookie == f"session={login.json()['token']}; HttpOnly; Path=/; SameSite=Lax"
    token = login.json()["token"]
    client.cookies.clear()
    client.cookies.set("session", token)
    assert client.get("/api/next-actions").status_code == 200
    client.cookies.clear()
    assert client.get("/api/next-actions", headers={"Authorization": f"bEaReR {token}"}).status_code == 200
    _error(client.get("/api/next-actions", headers={"Authorization": "Bearer nope"}), 401, "unauthorized")
    _error(client.get("/api/next-actions", headers={"Authorization": token}), 401, "unauthorized")
    assert client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    client.cookies.clear()
    _error(client.get("/api/next-actions", headers={"Authorization": f"Bearer {token}"}), 401, "unauthorized")
    assert world.get("/api/next-actions").status_code == 200  # other sessions live on


def test_list_filters_and_query_validation(world: World) -> None:
    one, two, _three = world.nba_ids
    assert world.execute(one, "snooze_1d").status_code == 200
    assert world.execute(two, "mark_done").status_code == 200
    queued = {item["id"] for item in world.get("/api/next-actions").json()["items"]}
    assert queued == {_three}
    assert queued == {i["id"] for i in world.get("/api/next-actions", status="queued").json()["items"]}
    done = world.get("/api/next-actions", status="done").json()["items"]
    assert [item["id"] for item in done] == [two]
    for bad in ("", "QUEUED", "all"):
        _error(world.get("/api/next-actions", status=bad), 400, "invalid_query")
    snoozed = world.get(f"/api/next-actions/{one}").json()
    assert snoozed["snoozedUntil"] is not None
    until = _when(snoozed["snoozedUntil"])
    executed = _when(snoozed["lastExecutedAt"])
    assert abs(until - executed - timedelta(days=1)) < timedelta(seconds=5)


def test_other_users_things_are_404(client: TestClient) -> None:
    alice, bob = World(client), World(client)
    theirs = bob.nba_ids[0]
    _error(alice.get(f"/api/next-actions/{theirs}"), 404, "not_found")
    _error(alice.get(f"/api/next-actions/{theirs}/executions"), 404, "not_found")
    _error(alice.get(f"/api/leads/{bob.lead_id}"), 404, "not_found")
    _error(alice.execute(theirs, "mark_done"), 404, "not_found")
    _error(alice.get("/api/next-actions/unknown"), 404, "not_found")
    assert alice.get("/api/ops/events", nextActionId=theirs).json()["items"] == []
    mine = {item["id"] for item in alice.get("/api/next-actions").json()["items"]}
    assert mine == set(alice.nba_ids)


def test_execute_check_order(client: TestClient, world: World) -> None:
    nba = world.nba_ids[0]
    url = f"/api/next-actions/{nba}/execute"
    _error(client.post(url, content=b"[]"), 401, "unauthorized")
    _error(client.post(url, content=b"", headers=world.headers), 400, "invalid_body")
    _error(client.post(url, content=b"{", headers=world.headers), 400, "invalid_body")
    _error(client.post(url, content=b'"x"', headers=world.headers), 400, "invalid_body")
    _error(client.post(url, json={}, headers=world.headers), 400, "invalid_action_key")
    _error(client.post(url, json={"actionKey": 3}, headers=world.headers), 400, "invalid_action_key")
    _error(client.post(url, json={"actionKey": "MARK_DONE"}, headers=world.headers), 400, "invalid_action_key")
    _error(client.post("/api/next-actions/nope/execute", content=b"[]", headers=world.headers), 400, "invalid_body")
    _error(world.execute("nope", "mark_done"), 404, "not_found")


@pytest.mark.parametrize("action_key", ACTION_KEYS)
def test_each_action_records_one_execution(world: World, action_key: str) -> None:
    nba = world.nba_ids[0]
    response = world.execute(nba, action_key)
    assert response.status_code == 200, response.text
    execution_id = response.json()["executionId"]
    assert response.json().get("stubbed", False) is (action_key == "retry_failed_deliveries")
    item = world.get(f"/api/next-actions/{nba}").json()
    executions = world.get(f"/api/next-actions/{nba}/executions").json()["items"]
    assert [e["id"] for e in executions] == [execution_id]
    record = executions[0]
    assert record["status"] == "success" and record["actionKey"] == action_key
    assert _when(record["startedAt"]) <= _when(item["lastExecutedAt"]) <= _when(record["finishedAt"])
    assert item["lastExecutionStatus"] == "success"
    assert item["lastExecutionErrorCode"] is None
    lead = world.get(f"/api/leads/{world.lead_id}").json()
    assert 0 <= lead["score"] <= 100
    if action_key == "mark_done":
        assert item["status"] == "done"
    if action_key == "recompute_score":
        assert lead["scoreUpdatedAt"] is not None
    if action_key == "run_risk_rules":
        assert lead["riskEvaluatedAt"] is not None and lead["riskFlags"]
    if action_key == "run_next_actions":
        assert world.get("/api/next-actions").json()["items"]
    events = world.get("/api/ops/events", nextActionId=nba).json()["items"]
    expected = "nba.delivery.stubbed" if action_key == "retry_failed_deliveries" else "nba.delivery.executed"
    assert [e["type"] for e in events] == [expected]
    assert events[0]["executionId"] == execution_id


def test_run_next_actions_after_done_creates_a_queued_one(client: TestClient) -> None:
    world = World(client, nextActions=1)
    nba = world.nba_ids[0]
    assert world.execute(nba, "mark_done").status_code == 200
    assert world.get("/api/next-actions").json()["items"] == []
    assert world.execute(nba, "run_next_actions").status_code == 200
    queued = world.get("/api/next-actions").json()["items"]
    assert len(queued) == 1 and queued[0]["id"] != nba
    assert world.get(f"/api/next-actions/{nba}").status_code == 200


def test_failing_action_is_sanitised(client: TestClient, tmp_path: Path) -> None:
    world = World(client, failingActions=["recompute_score"])
    nba = world.nba_ids[0]
    response = world.execute(nba, "recompute_score")
    _error(response, 500, "execution_failed")
    execution_id = response.json()["error"]["executionId"]
    item = world.get(f"/api/next-actions/{nba}").json()
    assert item["lastExecutionStatus"] == "failed"
    assert item["lastExecutionErrorCode"]
    executions = world.get(f"/api/next-actions/{nba}/executions").json()["items"]
    assert [(e["id"], e["status"]) for e in executions] == [(execution_id, "failed")]
    events = world.get("/api/ops/events").json()["items"]
    assert [e["type"] for e in events] == ["nba.delivery.failed"]
    lead = world.get(f"/api/leads/{world.lead_id}").json()
    assert lead["scoreUpdatedAt"] is None  # the failed action's effects were rolled back
    everything = json.dumps([response.json(), item, executions, events])
    assert FIXTURE_SECRET not in everything
    assert world.execute(nba, "mark_done").status_code == 200  # other actions still work


def test_ops_events_filters_newest_first(world: World) -> None:
    one, two = world.nba_ids[:2]
    world.execute(one, "recompute_score")
    world.execute(two, "retry_failed_deliveries")
    items = world.get("/api/ops/events").json()["items"]
    assert [i["type"] for i in items] == ["nba.delivery.stubbed", "nba.delivery.executed"]
    assert world.get("/api/ops/events", type="nba.delivery.executed").json()["items"][0]["nextActionId"] == one
    assert world.get("/api/ops/events", type="nope").json()["items"] == []
    assert len(world.get("/api/ops/events", nextActionId=two).json()["items"]) == 1


def test_access_log_lines(client: TestClient, tmp_path: Path) -> None:
    client.get("/api/health?secret=1")
    client.post("/api/e2e/fixtures", json={"nextActions": 1})
    client.get("/nowhere")
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert lines[-3:] == ["GET /api/health 200", "POST /api/e2e/fixtures 201", "GET /nowhere 404"]


def test_session_user_id_for_the_ui(client: TestClient, world: World) -> None:
    from starlette.requests import Request

    from refapp.auth import session_user_id

    def request(headers: dict[str, str]) -> Request:
        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "headers": raw, "app": client.app, "method": "GET"})

    user_id = session_user_id(request(world.headers))
    assert user_id is not None
    assert session_user_id(request({"Cookie": f"session={world.token}"})) == user_id
    assert session_user_id(request({})) is None
    assert session_user_id(request({"Cookie": "session=bogus"})) is None


def test_seed_account_is_idempotent(make_client: AppFactory) -> None:
    make_client(e2e_email="Seed@Example.test", e2e_password="pw-1")
    client = make_client(e2e_email="seed@example.test", e2e_password="pw-1")
    login = client.post("/api/auth/login", json={"email": "seed@example.test", "password": "pw-1"})
    assert login.status_code == 200
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    items = client.get("/api/next-actions", headers=headers).json()["items"]
    assert len(items) == 3
    assert len({item["leadId"] for item in items}) == 1


def test_logs_carry_no_secrets(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    world = World(client, failingActions=["mark_done"])
    world.execute(world.nba_ids[0], "mark_done")
    client.post("/api/cron/background-jobs", headers={"Authorization": "Bearer wrong"})
    text = caplog.text
    assert "failed" in text  # the failure is logged, by type only
    for secret in (FIXTURE_SECRET, world.token, world.data["user"]["password"]):
        assert secret not in text


def test_access_log_line_is_written_before_the_client_sees_the_answer(tmp_path: Path) -> None:
    """A test that reads the log right after a response must find that request's line there."""
    import asyncio

    from refapp.accesslog import AccessLogMiddleware

    log = tmp_path / "access.log"

    async def app(scope: object, receive: object, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    seen_at_start: list[str] = []

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            seen_at_start.append(log.read_text() if log.exists() else "")

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "POST", "path": "/api/e2e/fixtures", "raw_path": b"/api/e2e/fixtures"}
    asyncio.run(AccessLogMiddleware(app, str(log))(scope, receive, send))
    assert seen_at_start == ["POST /api/e2e/fixtures 201\n"]
    assert log.read_text() == "POST /api/e2e/fixtures 201\n"


def test_seed_tops_the_queue_up_to_refapp_seed_next_actions(make_client: AppFactory) -> None:
    client = make_client(e2e_email="five@example.test", e2e_password="pw-5", seed_next_actions=5)
    login = client.post("/api/auth/login", json={"email": "five@example.test", "password": "pw-5"})
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    items = client.get("/api/next-actions", headers=headers).json()["items"]
    assert len(items) == 5
    assert len({item["leadId"] for item in items}) == 1


@pytest.mark.parametrize("value", ["0", "51", "five", "-1"])
def test_refapp_seed_next_actions_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="REFAPP_SEED_NEXT_ACTIONS"):
        Settings.from_env({"REFAPP_SEED_NEXT_ACTIONS": value})
