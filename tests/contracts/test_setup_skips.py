"""Skips for lack of setup carry their category from where they are raised (safety.skips), so the
end summary can group them: the shared account, the second account, queued items, the cron secret,
the fuzzer without any user."""

from __future__ import annotations

import pytest
import respx

from contracts import api as c
from contracts.api.credentials import NO_CREDENTIALS, NO_SECOND_ACCOUNT, account
from safety.skips import SkipCategory, parse
from testkit.fixtures import second_account_user

from .fake_account import BASE, fake_account

ACCOUNTS = ("E2E_EMAIL", "E2E_PASSWORD", "E2E_EMAIL_2", "E2E_PASSWORD_2")


@pytest.fixture(autouse=True)
def _no_accounts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ACCOUNTS:
        monkeypatch.delenv(name, raising=False)


def _category(error: pytest.ExceptionInfo[BaseException]) -> tuple[SkipCategory | None, str]:
    return parse(str(error.value.msg))  # type: ignore[attr-defined]


def test_no_account_is_one_reason_naming_both_variables() -> None:
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception) as error:
        c.shared_user(client)
    assert _category(error) == (SkipCategory.NO_CREDENTIALS, NO_CREDENTIALS)
    assert "E2E_EMAIL" in NO_CREDENTIALS and "E2E_PASSWORD" in NO_CREDENTIALS


@respx.mock(base_url=BASE)
def test_what_the_shared_account_cannot_set_up_is_categorised(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_account(respx_mock, monkeypatch, ("a", "L1"))
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception) as error:
        c.shared_user(client, failing_actions=["mark_done"])
    assert _category(error)[0] is SkipCategory.NO_FIXTURES_ENDPOINT
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception) as error:
        c.shared_user(client, min_queued=2)
    assert _category(error)[0] is SkipCategory.NOT_ENOUGH_QUEUED_ITEMS


def test_no_second_account_names_its_variables() -> None:
    assert account(second=True) is None
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception) as error:
        second_account_user(client)
    assert _category(error) == (SkipCategory.NO_SECOND_ACCOUNT, NO_SECOND_ACCOUNT)
    assert "E2E_EMAIL_2" in NO_SECOND_ACCOUNT and "E2E_PASSWORD_2" in NO_SECOND_ACCOUNT


@respx.mock(base_url=BASE)
def test_the_second_account_is_a_user_with_the_queued_items_of_its_busiest_lead(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = fake_account(respx_mock, monkeypatch, ("a", "L1"), ("b", "L2"), ("c", "L2"), second=True)
    with c.client(BASE) as client:
        user = second_account_user(client)
    assert account.login.calls.last.request.content == b'{"email":"qa2@example.com","password":"pw2"}'
    assert (user.email, user.token, user.fixture.lead_id) == ("qa2@example.com", "t2", "L2")
    assert [ref.id for ref in user.fixture.next_actions] == ["b", "c"]
    assert user.isolated is False, "every worker logs the second account in: a 401 means log in afresh"


@respx.mock(base_url=BASE)
def test_a_second_account_without_queued_items_skips_saying_so(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_account(respx_mock, monkeypatch, second=True)
    with c.client(BASE) as client, pytest.raises(pytest.skip.Exception) as error:
        second_account_user(client)
    category, reason = _category(error)
    assert category is SkipCategory.NOT_ENOUGH_QUEUED_ITEMS and "E2E_EMAIL_2" in reason
