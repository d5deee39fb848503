"""Signing in through the form: the only spec that does (the others sign in through the API)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from specs.accounts import MakeAccount
from specs.helpers import LOGIN_URL, NEXT_ACTIONS_URL, item

pytestmark = pytest.mark.mutating


def _submit(page: Page, email: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


@pytest.mark.shared_login  # a sign-in may end the account's other sessions (free, v1.1)
def test_signing_in_lands_on_the_queue(page: Page, account: MakeAccount) -> None:
    me = account(next_actions=1)
    _submit(page, me.data.email, me.data.password)
    expect(page).to_have_url(NEXT_ACTIONS_URL)
    expect(item(page, me.next_actions[0].title)).to_be_visible()


def test_a_wrong_password_for_a_real_account_shows_an_alert(page: Page, account: MakeAccount) -> None:
    me = account(next_actions=1)
    _submit(page, me.data.email, me.data.password + "-wrong")
    expect(page.get_by_role("alert").filter(has_text=re.compile(r"\S")).first).to_be_visible()
    expect(page).to_have_url(LOGIN_URL)
