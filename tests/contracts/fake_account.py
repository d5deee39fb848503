"""A target account faked with respx, for the tests of the user set-ups (contracts.api.users, testkit.fixtures)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest
import respx

BASE = "http://127.0.0.1:9"  # loopback: the network guard lets it through
DATE = "Fri, 02 Jan 2026 03:04:05 GMT"


@dataclass(frozen=True)
class FakeAccount:
    email: str
    password: str
    token: str
    login: respx.Route  # POST /api/auth/login
    listed: respx.Route  # GET /api/next-actions


def queued(*pairs: tuple[str, str]) -> httpx.Response:
    """GET /api/next-actions answering the queued items `(id, leadId)`."""
    items = [{"id": nba, "leadId": lead, "title": f"Item {nba}"} for nba, lead in pairs]
    return httpx.Response(200, json={"items": items}, headers={"Date": DATE})


def fake_account(
    router: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, *pairs: tuple[str, str], second: bool = False
) -> FakeAccount:
    """The shared account (E2E_EMAIL, or E2E_EMAIL_2 with `second`) set in the environment; the
    target logs it in and lists the queued items `pairs` (id, leadId)."""
    email_name, password_name = ("E2E_EMAIL_2", "E2E_PASSWORD_2") if second else ("E2E_EMAIL", "E2E_PASSWORD")
    email, password, token = ("qa2@example.com", "pw2", "t2") if second else ("qa@example.com", "pw", "t0k")
    monkeypatch.setenv(email_name, email)
    monkeypatch.setenv(password_name, password)
    login = router.post("/api/auth/login").mock(return_value=httpx.Response(200, json={"ok": True, "token": token}))
    listed = router.get("/api/next-actions").mock(return_value=queued(*pairs))
    return FakeAccount(email, password, token, login, listed)
