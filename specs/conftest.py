"""Fixtures of the browser specs: which Chromium, which target, and a signed-in browser context.

A spec signs in through the API (contracts.api), never through the form (test_login.py is the
one exception), and hands the browser context the `session` cookie. Each spec gets a fresh
user from POST /api/e2e/fixtures; where the target has no fixtures endpoint it falls back to
the account in E2E_EMAIL / E2E_PASSWORD and skips, with a reason, what that cannot set up
(the same user setup as the contract tests: contracts.api.users, testkit/fixtures.py).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Playwright, expect

from contracts.api import MakeUser
from specs.accounts import Account, MakeAccount, session_cookie
from specs.browser import BrowserNotFound, bundled_candidates, find_chromium

# A web-first assertion waits at most this long (Playwright's default is 5 s): it costs nothing
# when the page is quick, and keeps a loaded CI machine from failing a correct app.
expect.set_options(timeout=10_000)

# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
    browser_name: str | None,
    browser_channel: str | None,
    connect_options: dict[str, Any] | None,
    playwright: Playwright,
) -> dict[str, Any]:
    """pytest-playwright's launch options, plus the Chromium that specs/browser.py finds."""
    if (browser_name or "chromium") != "chromium" or browser_channel or connect_options:
        return browser_type_launch_args
    try:
        choice = find_chromium(os.environ, bundled_candidates(playwright.chromium.executable_path))
    except BrowserNotFound as error:
        pytest.fail(str(error), pytrace=False)
    return choice.launch_args(browser_type_launch_args)


# --------------------------------------------------------------------------- accounts
# The target, the `api` client and the users come from testkit/fixtures.py (the root conftest).


@pytest.fixture
def account(user_or_shared: MakeUser) -> MakeAccount:
    """Factory: `account(next_actions=3, failing_actions=())`, a fresh user logged in by API.

    Falls back to the E2E_EMAIL account (or skips) where the target has no fixtures endpoint.
    """

    def make(*, next_actions: int = 3, failing_actions: Sequence[str] = ()) -> Account:
        return Account.of(user_or_shared(next_actions, failing_actions), next_actions)

    return make


@pytest.fixture
def sign_in(account: MakeAccount, context: BrowserContext, target: str) -> MakeAccount:
    """Factory: like `account`, and the browser context (so `page`) is signed in as that user."""

    def make(*, next_actions: int = 3, failing_actions: Sequence[str] = ()) -> Account:
        made = account(next_actions=next_actions, failing_actions=failing_actions)
        context.add_cookies([session_cookie(target, made.token)])  # type: ignore[list-item]
        return made

    return make
