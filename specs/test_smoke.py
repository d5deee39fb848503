"""Post-deploy smoke checks: read-only, so they are safe on production.

The one check that sends a POST (a sign-in with a wrong password) is also marked `mutating`:
a failed sign-in changes nothing that matters, but it is a write as far as the production
guard is concerned (and may count against a sign-in throttle), so it is skipped on production.
"""

from __future__ import annotations

import re
import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from specs.helpers import LOGIN_URL

pytestmark = pytest.mark.smoke


def test_health_answers_ok(api: httpx.Client) -> None:
    response = api.get("/api/health")
    assert response.status_code == 200, response.text
    assert response.json().get("ok") is True, response.text


def test_the_login_page_has_labelled_fields_and_a_sign_in_button(page: Page) -> None:
    page.goto("/login")
    expect(page.get_by_label("Email", exact=True)).to_be_editable()
    expect(page.get_by_label("Password", exact=True)).to_be_editable()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_enabled()


def test_next_actions_without_a_session_lands_on_login(page: Page) -> None:
    page.goto("/next-actions")
    expect(page).to_have_url(LOGIN_URL)
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()


def test_a_lead_page_without_a_session_lands_on_login(page: Page) -> None:
    page.goto("/leads/smoke-no-such-lead")
    expect(page).to_have_url(LOGIN_URL)


@pytest.mark.mutating
def test_a_wrong_password_shows_an_alert_and_stays_on_login(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(f"nobody-{secrets.token_hex(6)}@example.invalid")
    page.get_by_label("Password", exact=True).fill(secrets.token_urlsafe(12))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text=re.compile(r"\S")).first).to_be_visible()
    expect(page).to_have_url(LOGIN_URL)
