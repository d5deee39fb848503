"""The HTTP client the suite talks to the target with, and the routes it calls.

Everything here talks to the target through plain httpx; the safety plugin's network guard
wraps every httpx transport, so these clients are guarded like any other.
"""

from __future__ import annotations

import http.cookiejar
import uuid
from typing import Any

import httpx

from contracts.api.errors import check_answer

DEFAULT_TIMEOUT = 15.0

FIXTURES_PATH = "/api/e2e/fixtures"
LOGIN_PATH = "/api/auth/login"
LOGOUT_PATH = "/api/auth/logout"
HEALTH_PATH = "/api/health"
NEXT_ACTIONS_PATH = "/api/next-actions"
EVENTS_PATH = "/api/ops/events"
CRON_PATH = "/api/cron/background-jobs"


class _RejectAllCookies(http.cookiejar.DefaultCookiePolicy):
    """The suite authenticates explicitly on every request: the client keeps no cookie."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


def client(base_url: str, **kw: Any) -> httpx.Client:
    """An httpx client for the target: no proxies from the environment, no redirects, no cookie jar.

    The client never stores cookies a response sets (a login's `session` cookie included), so a
    request is authenticated only by what the test sends: `auth_headers(token)` or
    `cookie_headers(token)`. `base_url` may end with a slash or not.

    Every answer passes `errors.check_answer` (a response hook): the section 1 rules on error
    answers (a `Date` header; no stack trace, SQL, file path, password, token or secret in the
    message; no echo of the request's credentials) hold for every request the suite sends.
    """
    jar = http.cookiejar.CookieJar(policy=_RejectAllCookies())
    options: dict[str, Any] = {
        "trust_env": False,
        "timeout": DEFAULT_TIMEOUT,
        "follow_redirects": False,
        "cookies": jar,  # a CookieJar is used as is (httpx would copy a Cookies into a default jar)
    }
    hooks = dict(kw.pop("event_hooks", None) or {})
    hooks["response"] = [check_answer, *hooks.get("response", [])]
    options["event_hooks"] = hooks
    options.update(kw)
    return httpx.Client(base_url=base_url.rstrip("/") + "/", **options)


def auth_headers(token: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {token}"}


def cookie_headers(token: str) -> dict[str, str]:
    return {"Cookie": f"session={token}"}


def nba_path(nba_id: str) -> str:
    return f"{NEXT_ACTIONS_PATH}/{nba_id}"


def execute_path(nba_id: str) -> str:
    return f"{NEXT_ACTIONS_PATH}/{nba_id}/execute"


def uuid_hex() -> str:
    """A random 32-character hex string (unique test values)."""
    return uuid.uuid4().hex
