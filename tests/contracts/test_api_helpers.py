"""Tests of the contract suite's own helpers (the contracts.api package), against respx-mocked answers."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx

from contracts import api as c
from testkit import waits

from .fake_account import BASE, DATE, fake_account

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


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


def _wait_line(request: pytest.FixtureRequest, seconds: float, retry_after: str) -> str:
    why = f"POST /api/next-actions/x/execute answered 429 with Retry-After {retry_after!r}"
    return waits.line(request.node.nodeid, seconds, why)


def test_retry_waits_out_retry_after_then_returns_the_answer(said: list[str], request: pytest.FixtureRequest) -> None:
    slept: list[float] = []
    calls, send = _sender(_error(429, "rate_limited", **{"Retry-After": "3"}), httpx.Response(200, json={}))
    response = c.send_with_retry(send, c.RetryPolicy(margin=0.5), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert slept == [3.5] and len(calls) == 2
    assert said == [_wait_line(request, 3.5, "3")], "a wait past waits.NOTICE_SECONDS is said once"


def test_retry_understands_an_http_date_relative_to_the_server_date(said: list[str]) -> None:
    slept: list[float] = []
    limited = _error(429, "rate_limited", **{"Retry-After": "Fri, 02 Jan 2026 03:04:15 GMT"})
    _, send = _sender(limited, httpx.Response(200, json={}))
    c.send_with_retry(send, c.RetryPolicy(margin=0.0), sleep=slept.append)  # type: ignore[arg-type]
    assert slept == [10.0] and len(said) == 1


def test_retry_stops_after_max_attempts(said: list[str]) -> None:
    slept: list[float] = []
    limited = [_error(429, "rate_limited", **{"Retry-After": "1"}) for _ in range(5)]
    calls, send = _sender(*limited)
    response = c.send_with_retry(send, c.RetryPolicy(max_attempts=3, margin=0), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and len(calls) == 3 and slept == [1.0, 1.0]
    assert said == [], "waits under waits.NOTICE_SECONDS pass in silence"


def test_retry_refuses_a_wait_over_max_wait() -> None:
    slept: list[float] = []
    calls, send = _sender(_error(429, "rate_limited", **{"Retry-After": "90"}), httpx.Response(200))
    response = c.send_with_retry(send, c.RetryPolicy(max_wait=61), sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and slept == [] and len(calls) == 1


def test_retry_stops_when_the_total_wait_would_exceed_max_total(
    said: list[str], request: pytest.FixtureRequest
) -> None:
    slept: list[float] = []
    limited = [_error(429, "rate_limited", **{"Retry-After": "40"}) for _ in range(4)]
    calls, send = _sender(*limited)
    policy = c.RetryPolicy(max_attempts=4, max_wait=61, max_total=100, margin=0)
    response = c.send_with_retry(send, policy, sleep=slept.append)  # type: ignore[arg-type]
    assert response.status_code == 429 and slept == [40.0, 40.0] and len(calls) == 3
    assert said == [_wait_line(request, 40, "40")] * 2, "each wait is said; the refused third is not"


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
    # stack traces, of any runtime
    "python-traceback": 'Traceback (most recent call last):\n  File "/srv/app/views.py", line 3, in run',
    "python-frame-only": 'boom: File "app.py", line 12, in handler',
    "node-stack": "TypeError: x is undefined\n    at run (/app/.next/server/route.js:12:7)",
    "node-frame": "failed at Object.handler (webpack-internal:///./pages/api/x.ts:4:11)",
    "java-frame": "NullPointerException at com.acme.nba.Service.run(Service.java:42)",
    "java-native": "failed at sun.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
    "ruby-frame": "undefined method from app/models/lead.rb:17:in `score'",
    "go-panic": "panic: runtime error: index out of range [3] with length 3",
    "php-frame": "#0 index(12): handle()",
    "file-and-line": "error in handler.go:88",
    # SQL, in statement shape or from a driver
    "sql-select": "SELECT id, title FROM next_actions WHERE id = 'x'",
    "sql-select-star-lower": "query failed: select * from next_actions where id = $1",
    "sql-sqlalchemy-style": "SELECT next_actions.id, next_actions.title \n"
    "FROM next_actions \nWHERE next_actions.id = ?",
    "sql-select-lower-where": "no row for select title from leads where id = 'x'",
    "sql-insert": "could not INSERT INTO executions",
    "sql-insert-lower": "insert into executions (id) values (1) failed",
    "sql-update": "UPDATE next_actions SET status = 'done'",
    "sql-update-lower": "update next_actions set status = 'done' failed",
    "sql-delete": "DELETE FROM sessions",
    "sql-where-only": "no match for WHERE user_id = 7",
    "sql-ddl": "DROP TABLE leads",
    "sqlite-error": "sqlite3.OperationalError: database is locked",
    "pg-error": "duplicate key value violates unique constraint",
    "pg-constraint": 'insert violates foreign key constraint "fk_lead"',
    "sqlstate": "SQLSTATE[23000]: integrity",
    "mysql-code": "ER_DUP_ENTRY for key 'PRIMARY'",
    "prisma": "PrismaClientKnownRequestError: unique failed",
    "oracle": "ORA-00942 table does not exist",
    # file paths, in any folder
    "unix-path": "cannot open /var/lib/app/data.db",
    "unix-path-any-folder": "cannot load /mnt/builds/nba/config",
    "unix-path-unknown-root": "loaded from /zz9/plural/z/alpha",
    "unix-path-in-quotes": "cannot read '/data/nba/keys'",
    "home-path": "see ~/nba/settings",
    "dotted-relative-path": "failed in ../lib/actions",
    "source-file": "error in src/lib/actions.ts",
    "config-file": "missing key in config/settings.yaml",
    "windows-path": "cannot read C:\\app\\config.json",
    "windows-share": "cannot read \\\\fileserver\\nba\\keys",
    "file-url": "see file:///opt/nba/app",
    # passwords
    "password-assignment": "login failed for a@example.com with password=hunter2",
    "password-json": 'bad body {"email": "a@example.com", "password": "hunter2"}',
    "pwd-assignment": "auth failed: pwd = letmein",
    # tokens and keys
    "bearer-token": "rejected Authorization: Bearer 9f8e7d6c5b4a39281706",
    "jwt": "bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl",
    "long-hex": "unknown session 0123456789abcdef0123456789abcdef0123456789abcdef",
    "long-base64url": "unknown session k3J9_xQ2pLm8ZvB7nR4tW1yE6uA0sD5fG-hHjKlM",
    "token-assignment": "session expired: token=ab12cd34ef56",
    "api-key-assignment": "upstream rejected api_key: x1y2z3w4v5",
    "stripe-live-key": "upstream said: sk_live_4eC39HqLyjWDarjtT1zdp7dc rejected",
    "stripe-test-key": "upstream said: sk_test_abc123 rejected",
    "github-token": "push failed: ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "aws-key": "denied for AKIAIOSFODNN7EXAMPLE",
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
        # The reference app's own messages, in both readings (the message text is free).
        "Not found.",
        "Authentication is required.",
        "The email or password is wrong.",
        "email and password must be strings.",
        "Refused (invalid_credentials): The email or password is wrong.",
        "The request body must be sent as application/json.",
        "nextActions must be an integer from 1 to 50.",
        "failingActions must be an array of action keys.",
        "status must be queued or done.",
        "Idempotency-Key must be 1 to 255 characters.",
        "Something went wrong inside the service.",
        # Free text another implementation may well send.
        "No next action /api/next-actions/abc for you",
        "Sign in again at /login, then open /next-actions or /leads/42.",
        "The action failed (upstream timeout). Select another action from the list.",
        "Please select one from the list, or update your session and try again.",
        "Delete from the queue is not allowed; insert a valid actionKey.",
        "Built with Next.js",
        "Invalid body: expected a JSON object",
        "Wrong password or email; passwords are case-sensitive.",
        "Bearer authentication required (token missing or expired).",
        "The session token is invalid or expired.",
        "Token: missing",
        "Content-Type must be application/json and/or text/plain, 1/2 of N/A",
        "Retry at https://example.com/help/errors later.",
        "next action 3f2a0c1e9b8d4a7f8e6d5c4b3a291807 not found",  # a 32-hex id, not a secret
        "next action 3f2a0c1e-9b8d-4a7f-8e6d-5c4b3a291807 not found",  # a UUID
        "lead 100000000000000000000000000042 not found",  # a numeric id
        "executionId is clx1b2c3d4e5f6g7h8i9j0k1l",  # a cuid
        "IdempotencyKeyReusedWithAnotherAction",
    ],
)
def test_find_leaks_leaves_ordinary_messages_alone(message: str) -> None:
    assert c.find_leaks(message) == []


def _hooked(status: int, body: object, request: httpx.Request, **headers: str) -> httpx.Response:
    response = httpx.Response(status, json=body, headers={"Date": DATE, **headers}, request=request)
    return response


def test_check_answer_passes_a_clean_error_and_any_success() -> None:
    request = httpx.Request("GET", f"{BASE}/api/next-actions", headers={"Authorization": "Bearer tok-1234567890"})
    c.check_answer(_hooked(401, {"ok": False, "error": {"code": "unauthorized", "message": "No."}}, request))
    # A success may carry what an error may not (a login answers the token it made).
    c.check_answer(_hooked(200, {"ok": True, "token": "tok-1234567890"}, request))


def test_check_answer_needs_a_date_on_errors() -> None:
    request = httpx.Request("GET", f"{BASE}/api/leads/x")
    response = httpx.Response(
        404, json={"ok": False, "error": {"code": "not_found", "message": "No."}}, request=request
    )
    with pytest.raises(AssertionError, match="Date"):
        c.check_answer(response)


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({"Authorization": "Bearer unknown-4f1c2b9a"}, None, "Unknown token unknown-4f1c2b9a."),
        ({"authorization": "bearer unknown-4f1c2b9a"}, None, "no session for unknown-4f1c2b9a"),
        ({"Cookie": "session=zq81-unknown-token"}, None, "cookie zq81-unknown-token is dead"),
        ({}, {"email": "a@example.com", "password": "correct horse"}, "wrong: correct horse"),
    ],
    ids=["bearer", "bearer-lower", "cookie", "password"],
)
def test_check_answer_catches_an_echo_of_the_requests_credentials(
    headers: dict[str, str], body: object, message: str
) -> None:
    request = httpx.Request("POST", f"{BASE}/api/auth/login", headers=headers, json=body)
    response = _hooked(401, {"ok": False, "error": {"code": "unauthorized", "message": message}}, request)
    with pytest.raises(AssertionError, match=r"secret|credentials"):
        c.check_answer(response)


def test_check_answer_ignores_short_request_values() -> None:
    # "pw" is too short to tell from text: "pw" inside another word is no echo.
    request = httpx.Request("POST", f"{BASE}/api/auth/login", json={"email": "a@example.com", "password": "pw"})
    c.check_answer(_hooked(400, {"ok": False, "error": {"code": "invalid_body", "message": "pwned? no."}}, request))


def test_check_answer_catches_the_fixture_secret_in_any_answer() -> None:
    request = httpx.Request("GET", f"{BASE}/api/next-actions/x")
    with pytest.raises(AssertionError, match="fixtures' secret"):
        c.check_answer(_hooked(200, {"lastExecutionErrorMessage": "sk_live_FIXTURE_SECRET"}, request))


def test_check_answer_searches_a_body_without_a_message_whole() -> None:
    request = httpx.Request("GET", f"{BASE}/api/next-actions/x")
    page = httpx.Response(
        500,
        text='<pre>Traceback (most recent call last):\n  File "/srv/x.py", line 1</pre>',
        headers={"Date": DATE},
        request=request,
    )
    with pytest.raises(AssertionError, match="stack trace"):
        c.check_answer(page)


@respx.mock(base_url=BASE)
def test_every_client_checks_every_answer(respx_mock: respx.MockRouter) -> None:
    respx_mock.get("/api/leads/x").mock(
        return_value=httpx.Response(
            404,
            json={"ok": False, "error": {"code": "not_found", "message": "SELECT * FROM leads WHERE id = 'x'"}},
            headers={"Date": DATE},
        )
    )
    with c.client(BASE) as client, pytest.raises(AssertionError, match="SQL"):
        client.get("/api/leads/x")


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
        side_effect=[_error(400, "invalid_body"), _error(404, "not_found")]
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


@respx.mock(base_url=BASE)
def test_shared_user_takes_the_lead_with_the_most_queued_items(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = fake_account(respx_mock, monkeypatch, ("a", "L1"), ("b", "L2"), ("c", "L2"))
    with c.client(BASE) as client:
        user = c.shared_user(client, min_queued=2)
    assert account.listed.calls.last.request.url.params["status"] == "queued"
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
    fake_account(respx_mock, monkeypatch, ("a", "L1"))
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception, match="failingActions"):
        c.shared_user(client, failing_actions=["mark_done"])
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception, match=r"at least 2 .* \(it has 1\)"):
        c.shared_user(client, min_queued=2)
