"""Tests of the contract suite's own helpers (the contracts.api package), against respx-mocked answers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from contracts import api as c

BASE = "http://127.0.0.1:9"  # loopback: the network guard lets it through
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
DATE = "Fri, 02 Jan 2026 03:04:05 GMT"


def _error(status: int, code: str, message: str = "nope", **headers: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"ok": False, "error": {"code": code, "message": message}},
        headers={"Date": DATE, **headers},
        request=httpx.Request("POST", f"{BASE}/api/next-actions/x/execute"),
    )


# --------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("60", 60.0),
        (" 7 ", 7.0),
        ("Fri, 02 Jan 2026 03:04:35 GMT", 30.0),  # IMF-fixdate
        ("Friday, 02-Jan-26 03:05:05 GMT", 60.0),  # obsolete RFC 850
        ("Fri Jan  2 03:04:15 2026", 10.0),  # obsolete asctime
        ("Fri, 02 Jan 2026 03:00:00 GMT", 0.0),  # in the past: no wait
    ],
)
def test_parse_retry_after_reads_both_rfc_9110_forms(value: str, seconds: float) -> None:
    assert c.parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize("value", ["", " ", "-1", "1.5", "+3", "soon", "1e3", "0x10", "Fri, 99 Foo 2026"])
def test_parse_retry_after_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="Retry-After"):
        c.parse_retry_after(value, NOW)


def test_parse_retry_after_accepts_a_naive_now_as_utc() -> None:
    assert c.parse_retry_after("Fri, 02 Jan 2026 03:04:10 GMT", NOW.replace(tzinfo=None)) == 5.0


@pytest.mark.parametrize("value", ["1", "20", "60"])
def test_contract_retry_after_accepts_delay_seconds_1_to_60(value: str) -> None:
    assert c.contract_retry_after(_error(429, "rate_limited", **{"Retry-After": value})) == int(value)


@pytest.mark.parametrize("value", [None, "0", "61", "1.5", "Fri, 02 Jan 2026 03:04:35 GMT", "-1"])
def test_contract_retry_after_rejects_what_the_contract_forbids(value: str | None) -> None:
    headers = {} if value is None else {"Retry-After": value}
    with pytest.raises(AssertionError, match="Retry-After"):
        c.contract_retry_after(_error(429, "rate_limited", **headers))


# --------------------------------------------------------------------------- the retry policy


def _sender(*responses: httpx.Response) -> tuple[list[int], object]:
    calls: list[int] = []
    queue = list(responses)

    def send() -> httpx.Response:
        calls.append(1)
        return queue.pop(0)

    return calls, send


def test_retry_waits_out_retry_after_then_returns_the_answer() -> None:
    slept: list[float] = []
    calls, send = _sender(_error(429, "rate_limited", **{"Retry-After": "3"}), httpx.Response(200, json={}))
    response = c.send_with_retry(send, c.RetryPolicy(margin=0.5), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert slept == [3.5] and len(calls) == 2


def test_retry_understands_an_http_date_relative_to_the_server_date() -> None:
    slept: list[float] = []
    limited = _error(429, "rate_limited", **{"Retry-After": "Fri, 02 Jan 2026 03:04:15 GMT"})
    _, send = _sender(limited, httpx.Response(200, json={}))
    c.send_with_retry(send, c.RetryPolicy(margin=0.0), sleep=slept.append)  # type: ignore[arg-type]
    assert slept == [10.0]


def test_retry_stops_after_max_attempts() -> None:
    slept: list[float] = []
    limited = [_error(429, "rate_limited", **{"Retry-After": "1"}) for _ in range(5)]
    calls, send = _sender(*limited)
    response = c.send_with_retry(send, c.RetryPolicy(max_attempts=3, margin=0), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and len(calls) == 3 and slept == [1.0, 1.0]


def test_retry_refuses_a_wait_over_max_wait() -> None:
    slept: list[float] = []
    calls, send = _sender(_error(429, "rate_limited", **{"Retry-After": "90"}), httpx.Response(200))
    response = c.send_with_retry(send, c.RetryPolicy(max_wait=61), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and slept == [] and len(calls) == 1


def test_retry_stops_when_the_total_wait_would_exceed_max_total() -> None:
    slept: list[float] = []
    limited = [_error(429, "rate_limited", **{"Retry-After": "40"}) for _ in range(4)]
    calls, send = _sender(*limited)
    policy = c.RetryPolicy(max_attempts=4, max_wait=61, max_total=100, margin=0)
    response = c.send_with_retry(send, policy, sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and slept == [40.0, 40.0] and len(calls) == 3


@pytest.mark.parametrize("retry_after", [None, "soon"])
def test_retry_returns_a_429_without_a_usable_retry_after(retry_after: str | None) -> None:
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    calls, send = _sender(_error(429, "rate_limited", **headers), httpx.Response(200))
    response = c.send_with_retry(send, sleep=lambda _: None)  # type: ignore[arg-type]
    assert response.status_code == 429 and len(calls) == 1


def test_retry_does_not_retry_other_statuses() -> None:
    calls, send = _sender(_error(500, "execution_failed"), httpx.Response(200))
    assert c.send_with_retry(send, sleep=lambda _: None).status_code == 500  # type: ignore[arg-type]
    assert len(calls) == 1


# --------------------------------------------------------------------------- the error shape


def _answer(status: int, body: object) -> httpx.Response:
    response = httpx.Response(status, json=body, headers={"Date": DATE})
    response.request = httpx.Request("GET", f"{BASE}/api/x")
    return response


def test_assert_error_accepts_the_contract_shape_with_extra_fields() -> None:
    body = {"ok": False, "error": {"code": "not_found", "message": "Not found.", "hint": 1}, "requestId": "r"}
    error = c.assert_error(_answer(404, body), 404, "not_found")
    assert error["code"] == "not_found"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"ok": False, "error": {"code": "not_found", "message": "x"}}, "requires 404"),
        (404, {"ok": False, "error": {"code": "missing", "message": "x"}}, "error code"),
        (404, {"ok": True, "error": {"code": "not_found", "message": "x"}}, '"ok": false'),
        (404, {"error": {"code": "not_found", "message": "x"}}, '"ok": false'),
        (404, {"ok": False, "code": "not_found", "message": "x"}, '"error" object'),
        (404, {"ok": False, "error": {"code": "not_found"}}, "message"),
        (404, {"ok": False, "error": "not_found"}, '"error" object'),
        (404, ["not_found"], '"ok": false'),
    ],
)
def test_assert_error_rejects_wrong_shapes(status: int, body: object, expected: str) -> None:
    with pytest.raises(AssertionError, match=expected):
        c.assert_error(_answer(status, body), 404, "not_found")


def test_assert_error_rejects_a_body_that_is_not_json() -> None:
    response = httpx.Response(404, text="<h1>Not Found</h1>", request=httpx.Request("GET", f"{BASE}/x"))
    with pytest.raises(AssertionError, match="JSON"):
        c.assert_error(response, 404, "not_found")


LEAKY_MESSAGES = {
    "python-traceback": 'Traceback (most recent call last):\n  File "/srv/app/views.py", line 3, in run',
    "node-stack": "TypeError: x is undefined\n    at run (/app/.next/server/route.js:12:7)",
    "node-frame": "failed at Object.handler (webpack-internal:///./pages/api/x.ts:4:11)",
    "sql-select": "SELECT id, title FROM next_actions WHERE id = 'x'",
    "sql-insert": "could not INSERT INTO executions",
    "sqlite-error": "sqlite3.OperationalError: database is locked",
    "pg-error": "duplicate key value violates unique constraint",
    "unix-path": "cannot open /var/lib/app/data.db",
    "source-file": "error in src/lib/actions.ts",
    "windows-path": "cannot read C:\\app\\config.json",
    "fixture-secret": "upstream said: sk_live_FIXTURE_SECRET rejected",
}


@pytest.mark.parametrize("case", list(LEAKY_MESSAGES))
def test_assert_error_catches_leaks_in_the_message(case: str) -> None:
    body = {"ok": False, "error": {"code": "execution_failed", "message": LEAKY_MESSAGES[case]}}
    with pytest.raises(AssertionError, match="must not contain"):
        c.assert_error(_answer(500, body), 500, "execution_failed")


def test_assert_error_catches_a_caller_secret_anywhere_in_the_body() -> None:
    body = {"ok": False, "error": {"code": "unauthorized", "message": "bad"}, "debug": "token tok-123"}
    with pytest.raises(AssertionError, match="secret"):
        c.assert_error(_answer(401, body), 401, "unauthorized", secrets=["tok-123"])


@pytest.mark.parametrize(
    "message",
    [
        "Not found.",
        "No next action /api/next-actions/abc for you",
        "The action failed (upstream timeout). Select another action from the list.",
        "Built with Next.js",
        "Invalid body: expected a JSON object",
    ],
)
def test_find_leaks_leaves_ordinary_messages_alone(message: str) -> None:
    assert c.find_leaks(message) == []


# --------------------------------------------------------------------------- client and helpers


@respx.mock(base_url=BASE)
def test_client_joins_paths_with_or_without_a_trailing_slash(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get("/api/health").mock(return_value=httpx.Response(200, json={"ok": True}))
    for base in (BASE, BASE + "/"):
        with c.client(base) as client:
            assert client.get(c.HEALTH_PATH).status_code == 200
    assert route.call_count == 2


@respx.mock(base_url=BASE)
def test_client_keeps_no_cookie_and_follows_no_redirect(respx_mock: respx.MockRouter) -> None:
    respx_mock.post("/api/auth/login").mock(
        return_value=httpx.Response(
            200, json={"ok": True, "token": "t1"}, headers={"Set-Cookie": "session=t1; Path=/; HttpOnly"}
        )
    )
    seen = respx_mock.get("/api/next-actions").mock(return_value=httpx.Response(302, headers={"Location": "/login"}))
    with c.client(BASE) as client:
        assert c.login(client, "a@example.com", "pw") == "t1"
        response = client.get(c.NEXT_ACTIONS_PATH)
    assert response.status_code == 302, "redirects are not followed"
    assert "cookie" not in seen.calls.last.request.headers, "the login cookie must not be sent back"


@respx.mock(base_url=BASE)
def test_fixtures_available_probes_without_creating(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post("/api/e2e/fixtures").mock(
        side_effect=[_error(400, "invalid_body"), httpx.Response(404, json={"ok": False})]
    )
    with c.client(BASE) as client:
        assert c.fixtures_available(client) is True
        assert c.fixtures_available(client) is False
    assert route.calls[0].request.content == b'{"nextActions":0}'


@respx.mock(base_url=BASE)
def test_fixtures_available_fails_on_a_201(respx_mock: respx.MockRouter) -> None:
    respx_mock.post("/api/e2e/fixtures").mock(return_value=httpx.Response(201, json={}))
    with c.client(BASE) as client, pytest.raises(AssertionError, match="400"):
        c.fixtures_available(client)


@respx.mock(base_url=BASE)
def test_create_fixture_parses_the_answer(respx_mock: respx.MockRouter) -> None:
    answer = {
        "user": {"email": "u@example.com", "password": "pw"},
        "lead": {"id": "L1"},
        "nextActions": [{"id": "n1", "title": "Call A"}, {"id": "n2", "title": "Email B"}],
    }
    route = respx_mock.post("/api/e2e/fixtures").mock(return_value=httpx.Response(201, json=answer))
    with c.client(BASE) as client:
        data = c.create_fixture(client, next_actions=2, failing_actions=["mark_done"])
    assert data == c.FixtureData(
        "u@example.com", "pw", "L1", [c.NextActionRef("n1", "Call A"), c.NextActionRef("n2", "Email B")]
    )
    assert route.calls.last.request.content == b'{"nextActions":2,"failingActions":["mark_done"]}'


@respx.mock(base_url=BASE)
def test_create_fixture_rejects_a_wrong_count(respx_mock: respx.MockRouter) -> None:
    answer = {"user": {"email": "u@example.com", "password": "pw"}, "lead": {"id": "L1"}, "nextActions": []}
    respx_mock.post("/api/e2e/fixtures").mock(return_value=httpx.Response(201, json=answer))
    with c.client(BASE) as client, pytest.raises(AssertionError, match="asked for 3"):
        c.create_fixture(client)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-01-02T03:04:05Z", True),
        ("2026-01-02T03:04:05.123+01:00", True),
        ("2026-01-02T03:04:05", False),
        ("yesterday", False),
        (5, False),
    ],
)
def test_parse_time_needs_an_offset(value: object, ok: bool) -> None:
    if ok:
        assert c.parse_time(value).tzinfo is not None
    else:
        with pytest.raises(AssertionError):
            c.parse_time(value)


def test_server_now_reads_the_date_header() -> None:
    assert c.server_now(_answer(200, {})) == NOW
    response = httpx.Response(200, json={}, request=httpx.Request("GET", f"{BASE}/x"))
    with pytest.raises(AssertionError, match="Date"):
        c.server_now(response)


# --------------------------------------------------------------------------- the shared account


def _queued(*pairs: tuple[str, str]) -> httpx.Response:
    items = [{"id": nba, "leadId": lead, "title": f"Item {nba}"} for nba, lead in pairs]
    return httpx.Response(200, json={"items": items}, headers={"Date": DATE})


@respx.mock(base_url=BASE)
def test_shared_user_takes_the_lead_with_the_most_queued_items(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("E2E_EMAIL", "qa@example.com")
    monkeypatch.setenv("E2E_PASSWORD", "pw")
    respx_mock.post("/api/auth/login").mock(return_value=httpx.Response(200, json={"ok": True, "token": "t0k"}))
    listed = respx_mock.get("/api/next-actions").mock(return_value=_queued(("a", "L1"), ("b", "L2"), ("c", "L2")))
    with c.client(BASE) as client:
        user = c.shared_user(client, min_queued=2)
    assert listed.calls.last.request.url.params["status"] == "queued"
    assert user.fixture.lead_id == "L2"
    assert [ref.id for ref in user.fixture.next_actions] == ["b", "c"]
    assert user.isolated is False and user.retry is not None, "the shared account shares one budget and waits"


@respx.mock(base_url=BASE)
def test_shared_user_skips_naming_what_is_missing(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("E2E_EMAIL", raising=False)
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception, match="E2E_EMAIL / E2E_PASSWORD are unset"):
        c.shared_user(client)
    monkeypatch.setenv("E2E_EMAIL", "qa@example.com")
    monkeypatch.setenv("E2E_PASSWORD", "pw")
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception, match="failingActions"):
        c.shared_user(client, failing_actions=["mark_done"])
    respx_mock.post("/api/auth/login").mock(return_value=httpx.Response(200, json={"ok": True, "token": "t0k"}))
    respx_mock.get("/api/next-actions").mock(return_value=_queued(("a", "L1")))
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception, match=r"at least 2 .* \(it has 1\)"):
        c.shared_user(client, min_queued=2)
