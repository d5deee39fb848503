"""Fixtures of the HTTP contract suite (shared/CONTRACT.md).

Test data comes from POST /api/e2e/fixtures: every test gets its own brand-new user, so tests
never share data or a rate-limit budget and run in parallel (`-n 2`). Where the target answers
404 there, the suite falls back to the account in E2E_EMAIL / E2E_PASSWORD: requests then wait
out a 429's Retry-After (bounded) instead of failing, and what that account cannot set up
(failing actions, a second user, an isolated rate-limit budget) is skipped with a reason.

The target is pytest-playwright's `base_url` (the safety plugin resolves it and, without
--base-url, starts the embedded reference app).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from contracts import api as c

FIXTURES_HOWTO = (
    "enable POST /api/e2e/fixtures on the target (the reference app: REFAPP_E2E_FIXTURES=1; "
    "the embedded default has it)"
)
SHARED_ACCOUNT_HOWTO = "set E2E_EMAIL and E2E_PASSWORD to a test account with queued next actions"


# Fixtures that create data on the target (POST /api/e2e/fixtures, logins): a test using one
# is mutating whatever its own marks say, so the safety guard keeps it off production.
DATA_FIXTURES = frozenset({"fixtures_enabled", "fresh", "reader", "isolated", "second_user", "make_user"})
# Fixtures that only the fixtures endpoint can provide (no E2E_EMAIL fallback).
FIXTURES_ONLY = frozenset({"isolated", "second_user", "history"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark data-creating tests mutating (a safety net) and run whole-budget tests last."""
    for item in items:
        if not str(item.path).startswith(str(Path(__file__).parent)):
            continue
        used = set(getattr(item, "fixturenames", ()))
        if used & DATA_FIXTURES and item.get_closest_marker("mutating") is None:
            item.add_marker(pytest.mark.mutating)
        direct = set(getattr(getattr(item, "_fixtureinfo", None), "argnames", ()))
        if (used & FIXTURES_ONLY or "make_user" in direct) and item.get_closest_marker("needs_fixtures") is None:
            item.add_marker(pytest.mark.needs_fixtures)
    # Tests that spend a whole rate-limit budget run last, so they cannot starve the others.
    items.sort(key=lambda item: item.get_closest_marker("rate_limit_budget") is not None)


# --------------------------------------------------------------------------- the target


@pytest.fixture(scope="session")
def target(base_url: str | None) -> str:
    """The base URL of the app under test, without a trailing slash."""
    if not base_url:
        pytest.skip("no target: pass --base-url URL (or load the safety plugin, which embeds one)")
    return base_url.rstrip("/")


@pytest.fixture(scope="session")
def _session_api(target: str) -> Iterator[httpx.Client]:
    with c.client(target) as session_client:
        yield session_client


@pytest.fixture
def api(_session_api: httpx.Client) -> httpx.Client:
    """An httpx client to the target (no cookie jar, no redirects, no proxies from the env)."""
    return _session_api


@pytest.fixture
def new_client(target: str) -> Iterator[Callable[..., httpx.Client]]:
    """Make extra clients (e.g. one per thread); all are closed after the test."""
    made: list[httpx.Client] = []

    def make(**kw: object) -> httpx.Client:
        made.append(c.client(target, **kw))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def server_now() -> Callable[[httpx.Response], datetime]:
    """The server's time of a response, from its `Date` header (section 1)."""
    return c.server_now


@pytest.fixture
def idem_key() -> Callable[[], str]:
    """Fresh Idempotency-Key values, unique across runs."""
    return lambda: f"contract-{uuid.uuid4()}"


# --------------------------------------------------------------------------- test data


@pytest.fixture(scope="session")
def fixtures_enabled(_session_api: httpx.Client) -> bool:
    """Whether the target has POST /api/e2e/fixtures (probed once with a body that creates nothing).

    Only mutating tests reach this fixture, and the safety plugin skips those on production
    before any fixture runs.
    """
    return c.fixtures_available(_session_api)


def _shared_credentials() -> tuple[str, str]:
    email, password = os.environ.get("E2E_EMAIL"), os.environ.get("E2E_PASSWORD")
    if not email or not password:
        pytest.skip(
            "the target has no POST /api/e2e/fixtures (404) and E2E_EMAIL / E2E_PASSWORD are "
            f"unset: {SHARED_ACCOUNT_HOWTO}, or {FIXTURES_HOWTO}"
        )
    return email, password


def _shared_user(api: httpx.Client, min_queued: int = 1) -> c.User:
    email, password = _shared_credentials()
    token = c.login(api, email, password)
    user = c.User(api=api, token=token, email=email, password=password, retry=c.RetryPolicy(), isolated=False)
    queued = user.list_items("queued")
    lead_id = queued[0]["leadId"] if queued else None
    on_lead = [i for i in queued if i["leadId"] == lead_id]
    if len(on_lead) < min_queued:
        pytest.skip(
            f"the shared account {email} needs at least {min_queued} queued, unsnoozed next "
            f"actions on one lead (it has {len(on_lead)}): add some on the target, or " + FIXTURES_HOWTO
        )
    user.data = c.FixtureData(
        email=email,
        password=password,
        lead_id=str(lead_id),
        next_actions=[c.NextActionRef(id=str(i["id"]), title=str(i["title"])) for i in on_lead],
    )
    return user


MakeUser = c.MakeUser


@pytest.fixture
def make_user(api: httpx.Client, fixtures_enabled: bool) -> MakeUser:
    """Make a brand-new logged-in user through the fixtures endpoint (skips where it is absent)."""

    def make(next_actions: int = 3, failing_actions: Sequence[str] = ()) -> c.User:
        if not fixtures_enabled:
            pytest.skip(
                "needs its own fresh user (an isolated rate-limit budget, failing actions or a "
                f"second user), which only POST /api/e2e/fixtures makes: {FIXTURES_HOWTO}"
            )
        data = c.create_fixture(api, next_actions=next_actions, failing_actions=failing_actions)
        token = c.login(api, data.email, data.password)
        return c.User(api=api, token=token, email=data.email, password=data.password, data=data)

    return make


@pytest.fixture
def fresh(api: httpx.Client, fixtures_enabled: bool, make_user: MakeUser) -> c.User:
    """A logged-in user with queued next actions on one lead (`fresh.fixture`).

    A brand-new isolated fixtures user where the target has the endpoint; otherwise the
    E2E_EMAIL / E2E_PASSWORD account, whose requests wait out a 429 (bounded).
    """
    if fixtures_enabled:
        return make_user()
    return _shared_user(api)


@pytest.fixture(scope="session")
def reader(_session_api: httpx.Client, fixtures_enabled: bool) -> c.User:
    """One user per worker for tests that only read (never execute: no budget, no state change).

    Saves a fixtures call and a login per read-only test; tests that execute use `fresh`.
    """
    if not fixtures_enabled:
        return _shared_user(_session_api)
    data = c.create_fixture(_session_api)
    token = c.login(_session_api, data.email, data.password)
    return c.User(api=_session_api, token=token, email=data.email, password=data.password, data=data)


@pytest.fixture
def isolated(make_user: MakeUser) -> c.User:
    """A brand-new user with its own rate-limit budget; skipped where fixtures are absent."""
    return make_user()


@pytest.fixture
def second_user(make_user: MakeUser) -> c.User:
    """Another brand-new user (for the 404-on-another-user's-id rules)."""
    return make_user()


@pytest.fixture
def cron_secret() -> str:
    secret = os.environ.get("E2E_CRON_SECRET")
    if not secret:
        pytest.skip(
            "E2E_CRON_SECRET is unset: set it to the target's cron secret (its CRON_SECRET) "
            "to check POST /api/cron/background-jobs (section 8)"
        )
    return secret


@pytest.fixture
def shared_account_user(api: httpx.Client, fixtures_enabled: bool) -> c.User:
    """The E2E_EMAIL account without the retry policy (for the budget test in fallback mode)."""
    user = _shared_user(api, min_queued=0)
    user.retry = None
    return user


@pytest.fixture
def cron_secret_or_none() -> str | None:
    return os.environ.get("E2E_CRON_SECRET") or None
