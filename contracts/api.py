"""Small typed helpers for the HTTP contract (shared/CONTRACT.md) of the app under test.

Everything here talks to the target through plain httpx; the safety plugin's network guard
wraps every httpx transport, so these clients are guarded like any other.

The helpers never assume what the contract leaves free: they read only the fields it names,
never compare whole objects, and compare times with the server's `Date` header, never the
local clock.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

DEFAULT_TIMEOUT = 15.0

ACTION_KEYS: tuple[str, ...] = (
    "mark_done",
    "snooze_1d",
    "recompute_score",
    "run_risk_rules",
    "run_next_actions",
    "retry_failed_deliveries",
)

#: The secret string inside the simulated internal error of `failingActions` (section 4).
FIXTURE_SECRET = "sk_live_FIXTURE_SECRET"

#: Rate limit of the execute route (section 6): at most this many requests per user per 60 s.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 60

#: Times are compared with the `Date` of the causing response, allowing this much either way.
CLOCK_SLACK = timedelta(seconds=5)

FIXTURES_PATH = "/api/e2e/fixtures"
LOGIN_PATH = "/api/auth/login"
LOGOUT_PATH = "/api/auth/logout"
HEALTH_PATH = "/api/health"
NEXT_ACTIONS_PATH = "/api/next-actions"
EVENTS_PATH = "/api/ops/events"
CRON_PATH = "/api/cron/background-jobs"


# --------------------------------------------------------------------------- clients


class _RejectAllCookies(http.cookiejar.DefaultCookiePolicy):
    """The suite authenticates explicitly on every request: the client keeps no cookie."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def client(base_url: str, **kw: Any) -> httpx.Client:
    """An httpx client for the target: no proxies from the environment, no redirects, no cookie jar.

    The client never stores cookies a response sets (a login's `session` cookie included), so a
    request is authenticated only by what the test sends: `auth_headers(token)` or
    `cookie_headers(token)`. `base_url` may end with a slash or not.
    """
    jar = http.cookiejar.CookieJar(policy=_RejectAllCookies())
    options: dict[str, Any] = {
        "trust_env": False,
        "timeout": DEFAULT_TIMEOUT,
        "follow_redirects": False,
        "cookies": jar,  # a CookieJar is used as is (httpx would copy a Cookies into a default jar)
    }
    options.update(kw)
    return httpx.Client(base_url=base_url.rstrip("/") + "/", **options)


def auth_headers(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def cookie_headers(token: str) -> dict[str, str]:
    return {"Cookie": f"session={token}"}


# --------------------------------------------------------------------------- describing answers


def describe(response: httpx.Response, limit: int = 500) -> str:
    """`METHOD /path -> status: body excerpt`, for assertion messages."""
    request = response.request
    body = response.text
    if len(body) > limit:
        body = body[:limit] + f"... ({len(response.text)} chars)"
    return f"{request.method} {request.url.raw_path.decode()} -> {response.status_code}: {body!r}"


def json_body(response: httpx.Response) -> Any:
    """The response's JSON body; fails with a readable message when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AssertionError(
            f"the contract requires a JSON body (section 1); got {describe(response)} ({error})"
        ) from None


def expect_status(response: httpx.Response, status: int, why: str = "") -> Any:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, (
        f"expected {status}{' (' + why + ')' if why else ''}; got {describe(response)}"
    )
    return json_body(response)


# --------------------------------------------------------------------------- leaks


_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \"[^\"]+\", line \d+"
    r"|^\s*at [\w$.<>\[\] ]+ \(?[^()\s]+:\d+:\d+\)?"
    r"|\w+(Error|Exception)\b.*\n\s+at "
    r"|\.(py|js|mjs|cjs|ts|tsx|rb|go|java|php):\d+",
    re.MULTILINE,
)
_SQL = re.compile(
    r"\bSELECT\s+(?:\*|DISTINCT\b|COUNT\(|[\w.\"`]+(?:\s*,\s*[\w.\"`]+)*)\s+FROM\b"
    r"|\bINSERT\s+INTO\b"
    r"|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(CREATE|DROP|ALTER)\s+TABLE\b"
    r"|sqlite3?\.|psycopg|sqlalchemy|OperationalError|IntegrityError|ProgrammingError"
    r"|\bSQLSTATE\b|\bSQL syntax\b|\bno such (table|column)\b|\bduplicate key value\b",
    re.IGNORECASE,
)
_FILE_PATH = re.compile(
    r"(?:(?<![\w/])/(?:home|usr|var|tmp|opt|srv|app|work|etc|root|proc|Users|node_modules)/\S+)"
    r"|(?:[A-Za-z]:\\[^\s\"']+)"
    r"|(?:[\w.-]*/[\w./-]*\.(?:py|pyc|js|mjs|cjs|ts|tsx|rb|go|java|php|sqlite3?|db)\b)",
)


def find_leaks(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What in `text` the contract forbids in an error message (section 1) or an event (section 7).

    A stack trace, SQL, a file path, the fixtures' secret, and any of `secrets` (passwords,
    tokens, the cron secret). Returns one short description per finding; empty when clean.
    """
    findings: list[str] = []
    for name, pattern in (
        ("a stack trace", _STACK_TRACE),
        ("SQL", _SQL),
        ("a file path", _FILE_PATH),
    ):
        match = pattern.search(text)
        if match:
            findings.append(f"{name} ({match.group(0)[:80]!r})")
    for secret in (FIXTURE_SECRET, *secrets):
        if secret and secret in text:
            findings.append(f"a secret value ({secret[:4]}...)")
    return findings


def assert_no_secret(text: str, secrets: Iterable[str], where: str) -> None:
    """Assert that none of `secrets` (nor the fixtures' secret) occurs in `text`."""
    found = [s[:4] + "..." for s in (FIXTURE_SECRET, *secrets) if s and s in text]
    assert not found, f"the contract forbids secret values in {where}; found {found} in {text[:500]!r}"


def assert_error(response: httpx.Response, status: int, code: str, *, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Assert an error answer: status, `{"ok": false, "error": {"code", "message"}}`, clean message.

    Returns the `error` object (so a caller can read `executionId` on a 500 `execution_failed`).
    The message text is free, but it must not hold a stack trace, SQL, a file path or a secret.
    """
    assert response.status_code == status, f"the contract requires {status} {code}; got {describe(response)}"
    body = json_body(response)
    assert isinstance(body, dict) and body.get("ok") is False, (
        f'every error body must be {{"ok": false, "error": {{...}}}} (section 1); got {describe(response)}'
    )
    error = body.get("error")
    assert isinstance(error, dict), f'the error body needs an "error" object; got {describe(response)}'
    assert error.get("code") == code, (
        f"the contract requires error code {code!r}; got {error.get('code')!r} in {describe(response)}"
    )
    message = error.get("message")
    assert isinstance(message, str), (
        f'"error.message" must be a string (section 1); got {message!r} in {describe(response)}'
    )
    leaks = find_leaks(message, secrets)
    assert not leaks, (
        f"an error message must not contain a stack trace, SQL, a file path or a secret "
        f"(section 1); found {', '.join(leaks)} in {describe(response)}"
    )
    # Secrets must not appear anywhere in the answer, not just the message.
    assert_no_secret(response.text, secrets, f"the body of {describe(response, 120)}")
    return error


# --------------------------------------------------------------------------- times


def parse_time(value: object, what: str = "time") -> datetime:
    """An ISO 8601 time with an offset or `Z` (section 1); fails on anything else."""
    assert isinstance(value, str), f"{what} must be an ISO 8601 string; got {value!r}"
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise AssertionError(f"{what} must be ISO 8601; got {value!r}") from None
    assert parsed.tzinfo is not None, f"{what} must carry an offset or Z (section 1); got {value!r}"
    return parsed


def server_now(response: httpx.Response) -> datetime:
    """The server's time when it answered: the `Date` header every response carries (section 1)."""
    value = response.headers.get("date")
    assert value, f"every response must carry a Date header (section 1); none on {describe(response, 120)}"
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise AssertionError(f"unparseable Date header {value!r} on {describe(response, 120)}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def assert_near(actual: datetime, expected: datetime, slack: timedelta, what: str) -> None:
    delta = abs((actual - expected).total_seconds())
    assert delta <= slack.total_seconds(), (
        f"{what}: expected {expected.isoformat()} within {slack.total_seconds():g} s; "
        f"got {actual.isoformat()} ({delta:.1f} s off)"
    )


# --------------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str, now: datetime) -> float:
    """Seconds to wait for a `Retry-After` value, in either RFC 9110 form.

    delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`,
    never negative). Raises ValueError for anything else (empty, negative, fractional, junk).
    """
    text = value.strip()
    if re.fullmatch(r"[0-9]+", text):
        return float(int(text))
    if not text or text[0].isdigit() or text[0] in "+-.":
        raise ValueError(f"not a Retry-After value: {value!r}")
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a Retry-After value: {value!r}") from None
    if when is None:
        raise ValueError(f"not a Retry-After value: {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def contract_retry_after(response: httpx.Response) -> int:
    """The 429's `Retry-After`, which the contract requires in delay-seconds, 1..60 (section 6)."""
    value = response.headers.get("retry-after")
    assert value is not None, f"a 429 must carry a Retry-After header (section 6); none on {describe(response)}"
    assert re.fullmatch(r"[0-9]+", value), f"Retry-After must be delay-seconds, an integer (section 6); got {value!r}"
    seconds = int(value)
    assert 1 <= seconds <= RATE_WINDOW_SECONDS, f"Retry-After must be 1..60 (section 6); got {seconds}"
    return seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How long the suite may wait out a 429 before failing (the shared-account fallback).

    At most `max_attempts` sends in all, each wait at most `max_wait` seconds, and the waits
    together at most `max_total` seconds. A 429 without a usable Retry-After is returned as is.
    """

    max_attempts: int = 3
    max_wait: float = 61.0
    max_total: float = 125.0
    margin: float = 0.5


def send_with_retry(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Send; while the answer is 429 with a Retry-After within the policy's bounds, wait and resend.

    Returns the last answer (still a 429 if the bounds ran out): the caller's assertion then
    says what came back.
    """
    waited = 0.0
    response = send()
    for _ in range(policy.max_attempts - 1):
        if response.status_code != 429:
            return response
        value = response.headers.get("retry-after")
        if value is None:
            return response
        try:
            delay = parse_retry_after(value, server_now(response))
        except (ValueError, AssertionError):
            return response
        delay += policy.margin
        if delay > policy.max_wait or waited + delay > policy.max_total:
            return response
        sleep(delay)
        waited += delay
        response = send()
    return response


# --------------------------------------------------------------------------- fixtures and login


@dataclass(frozen=True)
class NextActionRef:
    id: str
    title: str


@dataclass(frozen=True)
class FixtureData:
    email: str
    password: str
    lead_id: str
    next_actions: list[NextActionRef] = field(default_factory=list)


def fixtures_available(api: httpx.Client) -> bool:
    """Whether the target has POST /api/e2e/fixtures, probed without creating anything.

    `{"nextActions": 0}` is out of range: 400 where the endpoint exists, 404 where it does not.
    Mutating in principle (a POST): only call it where mutating tests may run.
    """
    response = api.post(FIXTURES_PATH, json={"nextActions": 0})
    if response.status_code == 404:
        return False
    assert_error(response, 400, "invalid_body")
    return True


def create_fixture(api: httpx.Client, *, next_actions: int = 3, failing_actions: Sequence[str] = ()) -> FixtureData:
    """POST /api/e2e/fixtures: a brand-new user, one lead and `next_actions` queued next actions."""
    body: dict[str, Any] = {"nextActions": next_actions}
    if failing_actions:
        body["failingActions"] = list(failing_actions)
    response = api.post(FIXTURES_PATH, json=body)
    data = expect_status(response, 201, "POST /api/e2e/fixtures creates test data (section 4)")
    return parse_fixture(data, next_actions, response)


def parse_fixture(data: Any, next_actions: int | None, response: httpx.Response) -> FixtureData:
    where = describe(response)
    assert isinstance(data, dict), f"fixtures answer must be an object; got {where}"
    user, lead, items = data.get("user"), data.get("lead"), data.get("nextActions")
    assert isinstance(user, dict), f'fixtures answer needs "user": {{"email", "password"}}; got {where}'
    assert isinstance(user.get("email"), str) and isinstance(user.get("password"), str), (
        f'"user" needs string "email" and "password"; got {where}'
    )
    assert isinstance(lead, dict) and isinstance(lead.get("id"), str), (
        f'fixtures answer needs "lead": {{"id": str}}; got {where}'
    )
    assert isinstance(items, list), f'fixtures answer needs a "nextActions" array; got {where}'
    if next_actions is not None:
        assert len(items) == next_actions, f"asked for {next_actions} next actions, got {len(items)}: {where}"
    refs: list[NextActionRef] = []
    for item in items:
        assert isinstance(item, dict) and isinstance(item.get("id"), str), (
            f'each next action needs a string "id"; got {item!r} in {where}'
        )
        assert isinstance(item.get("title"), str) and item["title"], (
            f'each next action needs a non-empty "title"; got {item!r} in {where}'
        )
        refs.append(NextActionRef(id=item["id"], title=item["title"]))
    return FixtureData(email=user["email"], password=user["password"], lead_id=lead["id"], next_actions=refs)


def login(api: httpx.Client, email: str, password: str) -> str:
    """POST /api/auth/login; asserts 200 `{"ok": true, "token"}` and returns the token."""
    response = api.post(LOGIN_PATH, json={"email": email, "password": password})
    body = expect_status(response, 200, "login with valid credentials (section 2)")
    assert isinstance(body, dict) and body.get("ok") is True, (
        f'login must answer {{"ok": true, "token"}}; got {describe(response)}'
    )
    token = body.get("token")
    assert isinstance(token, str) and token, f'login must return a string "token"; got {describe(response)}'
    return token


# --------------------------------------------------------------------------- a logged-in user


#: Fresh logins a request of the shared account may make after a 401 (see `User._send`).
SHARED_RELOGINS = 2


@dataclass
class User:
    """A logged-in user of the target: token, credentials and (if made by fixtures) its data."""

    api: httpx.Client
    token: str
    email: str
    password: str
    data: FixtureData | None = None
    retry: RetryPolicy | None = None
    #: False for the shared E2E_EMAIL account, whose data other tests change too.
    isolated: bool = True

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.password, self.token)

    @property
    def fixture(self) -> FixtureData:
        assert self.data is not None, "this user was not made by POST /api/e2e/fixtures"
        return self.data

    def headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**auth_headers(self.token), **(extra or {})}

    def get(self, path: str, **kw: Any) -> httpx.Response:
        extra = kw.pop("headers", None)
        # Headers are built at send time: a resend after a fresh login carries the new token.
        return self._send(lambda: self.api.get(path, headers=self.headers(extra), **kw))

    def post(self, path: str, **kw: Any) -> httpx.Response:
        extra = kw.pop("headers", None)
        return self._send(lambda: self.api.post(path, headers=self.headers(extra), **kw))

    def _send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send() if self.retry is None else send_with_retry(send, self.retry)
        # The shared E2E_EMAIL account is logged in by other tests and workers too, and a
        # login may end the user's earlier sessions (free, v1.1): on a 401, log in afresh
        # and resend (bounded). A fixtures user is logged in once, by its own test only.
        for _ in range(SHARED_RELOGINS if not self.isolated else 0):
            if response.status_code != 401:
                break
            self.token = login(self.api, self.email, self.password)
            response = send() if self.retry is None else send_with_retry(send, self.retry)
        return response

    def execute(
        self,
        nba_id: str,
        action_key: str | None = None,
        *,
        idempotency_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        """POST .../{id}/execute with `{"actionKey": action_key}` unless `json`/`content` given."""
        extra = dict(headers or {})
        if idempotency_key is not None:
            extra["Idempotency-Key"] = idempotency_key
        if "json" not in kw and "content" not in kw:
            kw["json"] = {"actionKey": action_key}
        return self.post(execute_path(nba_id), headers=extra, **kw)

    def nba(self, nba_id: str) -> dict[str, Any]:
        response = self.get(nba_path(nba_id))
        body = expect_status(response, 200, "GET /api/next-actions/{id} of the caller's own item")
        assert_nba_shape(body, response)
        return dict(body)

    def list_items(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {} if status is None else {"status": status}
        response = self.get(NEXT_ACTIONS_PATH, params=params)
        return items_of(response)

    def executions(self, nba_id: str) -> list[dict[str, Any]]:
        response = self.get(nba_path(nba_id) + "/executions")
        items = items_of(response)
        for item in items:
            assert_execution_shape(item, response)
        return items

    def lead(self, lead_id: str) -> dict[str, Any]:
        response = self.get(f"/api/leads/{lead_id}")
        body = expect_status(response, 200, "GET /api/leads/{id} of the caller's own lead")
        assert_lead_shape(body, response)
        return dict(body)

    def events(self, **filters: str) -> list[dict[str, Any]]:
        response = self.get(EVENTS_PATH, params=filters)
        items = items_of(response)
        for item in items:
            assert_event_shape(item, response)
        return items


def need(user: User, count: int) -> list[NextActionRef]:
    """The user's first `count` queued next actions; skips the test when it has fewer (shared account)."""
    refs = user.fixture.next_actions
    if len(refs) < count:
        import pytest  # only the suite calls this

        pytest.skip(
            f"needs {count} queued, unsnoozed next actions on one lead; the shared account {user.email} "
            f"has {len(refs)}: add some on the target, or enable POST /api/e2e/fixtures"
        )
    return refs[:count]


def nba_path(nba_id: str) -> str:
    return f"{NEXT_ACTIONS_PATH}/{nba_id}"


def execute_path(nba_id: str) -> str:
    return f"{NEXT_ACTIONS_PATH}/{nba_id}/execute"


def items_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = expect_status(response, 200)
    assert isinstance(body, dict) and isinstance(body.get("items"), list), (
        f'the contract requires {{"items": [...]}}; got {describe(response)}'
    )
    items = body["items"]
    assert all(isinstance(i, dict) for i in items), f"every item must be an object; got {describe(response)}"
    return list(items)


# --------------------------------------------------------------------------- shapes


def _check_fields(obj: Any, checks: Mapping[str, Callable[[Any], bool]], what: str, where: str) -> None:
    assert isinstance(obj, dict), f"{what} must be an object; got {obj!r} from {where}"
    for name, ok in checks.items():
        assert name in obj, f"{what} needs field {name!r} (contract); missing in {obj!r} from {where}"
        assert ok(obj[name]), f"{what}.{name} has the wrong type or value {obj[name]!r} from {where}"


def _time_or_null(value: Any) -> bool:
    if value is None:
        return True
    try:
        parse_time(value)
    except AssertionError:
        return False
    return True


def _time(value: Any) -> bool:
    return value is not None and _time_or_null(value)


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _str_or_null(value: Any) -> bool:
    return value is None or isinstance(value, str)


def assert_nba_shape(obj: Any, response: httpx.Response) -> None:
    _check_fields(
        obj,
        {
            "id": _str,
            "title": _str,
            "status": lambda v: v in ("queued", "done"),
            "leadId": _str,
            "snoozedUntil": _time_or_null,
            "lastExecutedAt": _time_or_null,
            "lastExecutionStatus": lambda v: v in ("success", "failed", None),
            "lastExecutionErrorCode": _str_or_null,
            "lastExecutionErrorMessage": _str_or_null,
        },
        "a next action (section 5)",
        describe(response, 200),
    )


def assert_execution_shape(obj: Any, response: httpx.Response) -> None:
    where = describe(response, 200)
    _check_fields(
        obj,
        {
            "id": _str,
            "actionKey": lambda v: v in ACTION_KEYS,
            "status": lambda v: v in ("success", "failed"),
            "startedAt": _time,
            "finishedAt": _time,
            "errorCode": _str_or_null,
            "errorMessage": _str_or_null,
        },
        "an execution (section 5)",
        where,
    )
    started, finished = parse_time(obj["startedAt"]), parse_time(obj["finishedAt"])
    assert started <= finished, f"an execution needs startedAt <= finishedAt (section 5); got {obj!r}"


def assert_lead_shape(obj: Any, response: httpx.Response) -> None:
    _check_fields(
        obj,
        {
            "id": _str,
            "name": _str,
            "score": lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100,
            "scoreUpdatedAt": _time_or_null,
            "riskFlags": lambda v: (
                isinstance(v, list) and all(isinstance(f, dict) and "code" in f and "severity" in f for f in v)
            ),
            "riskEvaluatedAt": _time_or_null,
        },
        "a lead (section 5)",
        describe(response, 200),
    )


def assert_event_shape(obj: Any, response: httpx.Response) -> None:
    where = describe(response, 200)
    _check_fields(obj, {"type": _str, "at": _time}, "an ops event (section 7)", where)
    for name in ("nextActionId", "actionKey", "executionId"):
        assert name in obj, f"an ops event needs field {name!r} (section 7); got {obj!r} from {where}"
        assert _str_or_null(obj[name]), f"ops event field {name} must be a string or null; got {obj!r}"


#: The `make_user` fixture's type: `make_user(next_actions=3, failing_actions=()) -> User`.
MakeUser = Callable[..., User]


def uuid_hex() -> str:
    """A random 32-character hex string (unique test values)."""
    return uuid.uuid4().hex


T = TypeVar("T")


def race(count: int, call: Callable[[int], T], timeout: float = 60.0) -> list[T | BaseException]:
    """Run `call(0)` .. `call(count - 1)` on threads released together by a barrier.

    Returns, in index order, each call's result or the exception it raised (a call that has
    not finished within `timeout` seconds shows as a TimeoutError), so that the caller can
    assert that every one of them answered.
    """
    barrier = threading.Barrier(count)
    results: list[T | BaseException] = [TimeoutError(f"call {n} did not finish in {timeout:g} s") for n in range(count)]

    def run(n: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[n] = call(n)
        except BaseException as error:  # handed to the caller
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    return results
