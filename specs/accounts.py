"""Who a spec acts as: a fresh fixtures user, or the shared E2E_EMAIL account where the target
has no POST /api/e2e/fixtures, set up by contracts.api.users as for the contract tests.
Logged in through the API, never the form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.api import FixtureData, NextActionRef, User


@dataclass(frozen=True)
class Account:
    """A user of the target, logged in through the API, with the data a spec may act on."""

    user: User
    data: FixtureData
    #: True for the E2E_EMAIL account: its rate-limit budget is shared with the whole run.
    shared: bool = False

    @classmethod
    def of(cls, user: User, next_actions: int) -> Account:
        """The spec's view of a user made by contracts.api.users: its first `next_actions` items."""
        data = user.fixture
        data = FixtureData(data.email, data.password, data.lead_id, data.next_actions[:next_actions])
        return cls(user=user, data=data, shared=not user.isolated)

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
