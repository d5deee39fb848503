"""Users of the target: made by POST /api/e2e/fixtures, or the shared E2E_EMAIL account.

Both suites (contracts/ and specs/) set up their users here, so a user means the same thing
in both: logged in through the API, with the next actions it may act on.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.api.client import (
    EVENTS_PATH,
    FIXTURES_PATH,
    LOGIN_PATH,
    NEXT_ACTIONS_PATH,
    auth_headers,
    execute_path,
    nba_path,
)
from contracts.api.credentials import NO_CREDENTIALS
from contracts.api.errors import assert_error, describe, expect_status
from contracts.api.shapes import (
    assert_event_shape,
    assert_execution_shape,
    assert_lead_shape,
    assert_nba_shape,
    items_of,
)
from contracts.api.times import RetryPolicy, send_with_retry
from safety.skips import SkipCategory, skip_for_setup
from testkit.items import ItemsUnavailable, SharedAccount


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
    #: The shared account's hand-out (testkit/items.py): its execute budget and its token.
    account: SharedAccount | None = None

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
        send = lambda: self.api.post(path, headers=self.headers(extra), **kw)  # noqa: E731
        if self.account is not None and path.endswith("/execute"):
            # Every authenticated execute spends the account's one budget: reserve a slot first.
            send = self._budgeted(send)
        return self._send(send)

    def reserve(self, count: int = 1) -> None:
        """Take `count` slots of the shared account's execute budget (a click that executes, say)."""
        if self.account is not None:
            self.account.budget.reserve(count)

    def _budgeted(self, send: Callable[[], httpx.Response]) -> Callable[[], httpx.Response]:
        def budgeted() -> httpx.Response:
            self.reserve()
            return send()

        return budgeted

    def _send(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send() if self.retry is None else send_with_retry(send, self.retry)
        # The shared E2E_EMAIL account is logged in by other tests and workers too, and a
        # login may end the user's earlier sessions (free, v1.1): on a 401, get a live token
        # (one login for the whole run: testkit/items.py) and resend (bounded). A fixtures
        # user is logged in once, by its own test only.
        for _ in range(SHARED_RELOGINS if not self.isolated else 0):
            if response.status_code != 401:
                break
            self.token = self._renewed()
            response = send() if self.retry is None else send_with_retry(send, self.retry)
        return response

    def _renewed(self) -> str:
        def fresh_login() -> str:
            return login(self.api, self.email, self.password)

        return fresh_login() if self.account is None else self.account.renew(self.token, fresh_login)

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


def login_again(user: User) -> User:
    """A second session of `user`: a copy of it (same data) holding the token of a fresh login.

    Whether this login ends `user`'s session is free (v1.1): use only the new one from here.
    """
    return dataclasses.replace(user, token=login(user.api, user.email, user.password))


def need(user: User, count: int) -> list[NextActionRef]:
    """The user's first `count` queued next actions; skips the test when it has fewer (shared account)."""
    refs = user.fixture.next_actions
    if len(refs) < count:
        skip_for_setup(
            SkipCategory.NOT_ENOUGH_QUEUED_ITEMS,
            f"needs {count} queued, unsnoozed next actions on one lead; the shared account {user.email} "
            f"has {len(refs)}: add some on the target, or enable POST /api/e2e/fixtures",
        )
    return refs[:count]


#: The `make_user` fixture's type: `make_user(next_actions=3, failing_actions=()) -> User`.
MakeUser = Callable[..., User]


FIXTURES_HOWTO = (
    "enable POST /api/e2e/fixtures on the target (the reference app: REFAPP_E2E_FIXTURES=1; "
    "the embedded default has it)"
)
#: How the shared account waits out a 429 by default.
SHARED_RETRY = RetryPolicy()
SHARED_ACCOUNT_HOWTO = "set E2E_EMAIL and E2E_PASSWORD to a test account with queued next actions"


def fixtures_user(api: httpx.Client, next_actions: int = 3, failing_actions: Sequence[str] = ()) -> User:
    """A brand-new user made by POST /api/e2e/fixtures, logged in: one lead, `next_actions` queued items."""
    data = create_fixture(api, next_actions=next_actions, failing_actions=failing_actions)
    token = login(api, data.email, data.password)
    return User(api=api, token=token, email=data.email, password=data.password, data=data)


def shared_user(
    api: httpx.Client,
    *,
    min_queued: int = 1,
    failing_actions: Sequence[str] = (),
    retry: RetryPolicy | None = SHARED_RETRY,
    account: SharedAccount | None = None,
    who: str = "",
    whole_lead: bool = False,
) -> User:
    """The E2E_EMAIL / E2E_PASSWORD account, logged in, with the queued items of its busiest lead.

    Its `fixture` holds the lead with the most queued next actions and all of them. Skips, naming
    what is missing, when the variables are unset, when failing actions are wanted (only the
    fixtures endpoint makes those) or when that lead has fewer than `min_queued` items. Its
    requests wait out a 429 (bounded by `retry`): the whole run shares its rate-limit budget.

    With `account` (the run's hand-out, testkit/items.py) the token is the run's one token, the
    execute requests reserve the shared budget first, and `fixture` holds only the
    `min_queued` items handed to `who` (every queued item of the lead with `whole_lead`).
    """
    email, password = os.environ.get("E2E_EMAIL", ""), os.environ.get("E2E_PASSWORD", "")
    if not (email and password):
        skip_for_setup(SkipCategory.NO_CREDENTIALS, NO_CREDENTIALS)
    if failing_actions:
        skip_for_setup(
            SkipCategory.NO_FIXTURES_ENDPOINT,
            f"needs next actions whose {', '.join(failing_actions)} fails: only "
            f"POST /api/e2e/fixtures (failingActions) can set that up: {FIXTURES_HOWTO}",
        )
    if account is not None:
        return _handed_out(api, email, password, retry, account, who, min_queued, whole_lead)
    token = login(api, email, password)
    user = User(api=api, token=token, email=email, password=password, retry=retry, isolated=False)
    by_lead: dict[str, list[NextActionRef]] = {}
    for item in user.list_items("queued"):
        by_lead.setdefault(str(item["leadId"]), []).append(NextActionRef(str(item["id"]), str(item["title"])))
    lead_id, refs = max(by_lead.items(), key=lambda kv: len(kv[1]), default=("", []))
    if len(refs) < min_queued:
        skip_for_setup(
            SkipCategory.NOT_ENOUGH_QUEUED_ITEMS,
            f"the shared account {email} needs at least {min_queued} queued, unsnoozed next "
            f"actions on one lead (it has {len(refs)}): add some on the target, or " + FIXTURES_HOWTO,
        )
    user.data = FixtureData(email=email, password=password, lead_id=lead_id, next_actions=refs)
    return user


def _handed_out(
    api: httpx.Client,
    email: str,
    password: str,
    retry: RetryPolicy | None,
    account: SharedAccount,
    who: str,
    count: int,
    whole_lead: bool,
) -> User:
    token = account.token(lambda: login(api, email, password))
    user = User(api=api, token=token, email=email, password=password, retry=retry, isolated=False, account=account)
    if count == 0 and not whole_lead:
        # Nothing to act on: a view of the busiest lead's queued items, held by no one.
        by_lead: dict[str, list[NextActionRef]] = {}
        for item in user.list_items("queued"):
            by_lead.setdefault(str(item["leadId"]), []).append(NextActionRef(str(item["id"]), str(item["title"])))
        lead_id, refs = max(by_lead.items(), key=lambda kv: len(kv[1]), default=("", []))
        user.data = FixtureData(email=email, password=password, lead_id=lead_id, next_actions=refs)
        return user
    try:
        lead_id, ids = account.claim(who, user, count, whole_lead=whole_lead)
    except ItemsUnavailable as error:
        skip_for_setup(
            SkipCategory.NOT_ENOUGH_QUEUED_ITEMS,
            f"needs {count} queued, unsnoozed next action(s) of the shared account {email} that no other "
            f"test holds, and {error}: add some on the target, or {FIXTURES_HOWTO}",
        )
    titles = {str(i["id"]): str(i["title"]) for i in user.list_items("queued")}
    refs = [NextActionRef(item_id, titles.get(item_id, "")) for item_id in ids]
    user.data = FixtureData(email=email, password=password, lead_id=lead_id, next_actions=refs)
    return user
