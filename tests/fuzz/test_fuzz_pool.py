"""The fuzzer keeps its users' sessions alive on a target where a login ends earlier sessions.

Whether a new login ends the user's earlier sessions is free (CONTRACT.md section 2, v1.1).
Against such a target the fuzzer used to log its own user in again (a login case carrying
its real credentials) and then send about 760 answers' worth of dead tokens (issue 12). The
fake target here takes that reading: each login ends the user's other sessions.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from contracts import api as c
from contracts.fuzz.auth import UserPool


class SessionEndingTarget:
    """Just enough of the API, in memory: a login ends every earlier session of that user."""

    def __init__(self) -> None:
        self.passwords: dict[str, str] = {}
        self.live: dict[str, str] = {}  # token -> email
        self.logins: list[str] = []
        self._ids = itertools.count(1)

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == c.FIXTURES_PATH:
            n = next(self._ids)
            email = f"user{n}@example.com"
            self.passwords[email] = f"pw{n}"
            body = json.loads(request.content or b"{}")
            items = [{"id": f"n{n}-{i}", "title": f"t{n}-{i}"} for i in range(body.get("nextActions", 3))]
            return httpx.Response(
                201,
                json={"user": {"email": email, "password": f"pw{n}"}, "lead": {"id": f"l{n}"}, "nextActions": items},
            )
        if path == c.LOGIN_PATH:
            body = json.loads(request.content)
            email = body["email"]
            if self.passwords.get(email) != body["password"]:
                return httpx.Response(
                    401, json={"ok": False, "error": {"code": "invalid_credentials", "message": "no"}}
                )
            self.live = {t: e for t, e in self.live.items() if e != email}  # the other reading
            token = f"tok{next(self._ids)}"
            self.live[token] = email
            self.logins.append(email)
            return httpx.Response(200, json={"ok": True, "token": token})
        token = request.headers.get("authorization", "").partition(" ")[2]
        if token not in self.live:
            return httpx.Response(401, json={"ok": False, "error": {"code": "unauthorized", "message": "no"}})
        return httpx.Response(200, json={"items": []}, headers={"Date": "Tue, 01 Dec 2026 05:00:00 GMT"})

    def alive(self, token: str) -> bool:
        return token in self.live


@pytest.fixture
def target() -> SessionEndingTarget:
    return SessionEndingTarget()


def _pool(target: SessionEndingTarget, *, use_fixtures: bool) -> UserPool:
    http = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(target.handle))
    return UserPool("http://127.0.0.1:9", use_fixtures=use_fixtures, http=http)


def test_login_cases_log_in_a_user_of_their_own(target: SessionEndingTarget) -> None:
    pool = _pool(target, use_fixtures=True)
    working = pool.current()
    for _ in range(3):
        user = pool._login_target()
        # What the login case does when it is sent with these credentials:
        c.login(pool._http, user.email, user.password)
    assert user.email != working.email
    assert target.alive(pool.current().token), "a login case ended the session the pool sends"
    assert target.alive(pool._failing_user().token)


def test_the_shared_account_logs_in_afresh_after_a_login_case(
    target: SessionEndingTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    target.passwords["shared@example.com"] = "pw"
    monkeypatch.setenv("E2E_EMAIL", "shared@example.com")
    monkeypatch.setenv("E2E_PASSWORD", "pw")
    pool = _pool(target, use_fixtures=False)
    user = pool._login_target()
    c.login(pool._http, user.email, user.password)  # the login case, sent
    assert target.alive(pool.current().token)
    token = pool.fresh_token()
    target.live.pop(token)  # the logout case, sent with that token
    assert target.alive(pool.current().token), "a logout case ended the shared account's pool session"


def test_a_dead_token_is_found_and_replaced(target: SessionEndingTarget) -> None:
    pool = _pool(target, use_fixtures=True)
    user = pool.current()
    assert pool.revive(f"Bearer {user.token}") is None, "a live token is kept"
    c.login(pool._http, user.email, user.password)  # someone else logs the user in
    new = pool.revive(f"Bearer {user.token}")
    assert new is not None and target.alive(new) and pool.current().token == new
    assert pool.stats.revived == 1
    assert pool.revive("Bearer not-a-pool-token") is None


def test_the_shared_account_user_logs_in_afresh_on_a_401(target: SessionEndingTarget) -> None:
    target.passwords["shared@example.com"] = "pw"
    http = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(target.handle))
    shared = c.User(
        api=http,
        token=c.login(http, "shared@example.com", "pw"),
        email="shared@example.com",
        password="pw",
        isolated=False,
    )
    c.login(http, "shared@example.com", "pw")  # another worker logs the account in
    assert shared.get(c.NEXT_ACTIONS_PATH).status_code == 200
    own: Any = c.User(api=http, token="tok-dead", email="x@example.com", password="x")
    assert own.get(c.NEXT_ACTIONS_PATH).status_code == 401, "a fixtures user never logs in behind a test's back"
