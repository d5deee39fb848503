"""Who a spec acts as: a fresh fixtures user, or the shared E2E_EMAIL account where the target
has no POST /api/e2e/fixtures. Logged in through the API (contracts.api), never the form.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from contracts.api import (
    FixtureData,
    NextActionRef,
    RetryPolicy,
    User,
    create_fixture,
    fixtures_available,
    login,
)


@dataclass(frozen=True)
class Account:
    """A user of the target, logged in through the API, with the data a spec may act on."""

    user: User
    data: FixtureData
    #: True for the E2E_EMAIL account: its rate-limit budget is shared with the whole run.
    shared: bool = False

    @property
    def token(self) -> str:
        return self.user.token

    @property
    def lead_id(self) -> str:
        return self.data.lead_id

    @property
    def next_actions(self) -> list[NextActionRef]:
        return self.data.next_actions


#: `make(next_actions=3, failing_actions=())`, the shape of the `account` and `sign_in` fixtures.
MakeAccount = Callable[..., Account]

_FIXTURES_PROBE: dict[str, bool] = {}


def has_fixtures(api: httpx.Client, target_url: str) -> bool:
    """Whether the target has the fixtures endpoint; probed once per worker.

    The probe is a POST: call it only from a test that may write (a `mutating` one).
    """
    if target_url not in _FIXTURES_PROBE:
        _FIXTURES_PROBE[target_url] = fixtures_available(api)
    return _FIXTURES_PROBE[target_url]


def fixtures_account(api: httpx.Client, next_actions: int, failing_actions: Sequence[str]) -> Account:
    """A brand-new user with one lead and `next_actions` queued next actions."""
    data = create_fixture(api, next_actions=next_actions, failing_actions=failing_actions)
    token = login(api, data.email, data.password)
    user = User(api=api, token=token, email=data.email, password=data.password, data=data)
    return Account(user=user, data=data)


def shared_account(api: httpx.Client, next_actions: int, failing_actions: Sequence[str]) -> Account:
    """The E2E_EMAIL / E2E_PASSWORD account and `next_actions` of its queued items on one lead.

    Skips, with what is missing, when the variables are unset, when failing actions are
    wanted (only the fixtures endpoint makes those), or when the account has too few items.
    """
    email, password = os.environ.get("E2E_EMAIL", ""), os.environ.get("E2E_PASSWORD", "")
    if not (email and password):
        pytest.skip(
            "the target has no POST /api/e2e/fixtures and E2E_EMAIL / E2E_PASSWORD are unset: "
            "set them to a test account with queued next actions"
        )
    if failing_actions:
        pytest.skip(
            f"needs next actions whose {', '.join(failing_actions)} fails: only "
            "POST /api/e2e/fixtures (failingActions) can set that up"
        )
    token = login(api, email, password)
    user = User(api=api, token=token, email=email, password=password, retry=RetryPolicy(), isolated=False)
    by_lead: dict[str, list[NextActionRef]] = {}
    for item in user.list_items():
        by_lead.setdefault(item["leadId"], []).append(NextActionRef(item["id"], item["title"]))
    lead_id, refs = max(by_lead.items(), key=lambda kv: len(kv[1]), default=("", []))
    if len(refs) < next_actions:
        pytest.skip(
            f"needs {next_actions} queued next action(s) on one lead of the E2E_EMAIL account; "
            f"it has {len(refs)} (POST /api/e2e/fixtures would create them)"
        )
    data = FixtureData(email=email, password=password, lead_id=lead_id, next_actions=refs[:next_actions])
    return Account(user=user, data=data, shared=True)


def session_cookie(target_url: str, token: str) -> dict[str, Any]:
    """The `session` cookie for the target's origin (host-only, Path=/), as a login sets it."""
    parts = urlsplit(target_url)
    return {
        "name": "session",
        "value": token,
        "url": f"{parts.scheme}://{parts.netloc}/",
        "httpOnly": True,
        "secure": parts.scheme == "https",
        "sameSite": "Lax",
    }
