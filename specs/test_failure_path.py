"""An action that fails inside the app: the page says so, without leaking the internal error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Error, Page, Response, expect

from contracts.api import FIXTURE_SECRET
from specs.accounts import MakeAccount
from specs.helpers import expect_failed, open_queue, run_action

pytestmark = pytest.mark.mutating


def test_a_failing_action_shows_an_alert_and_records_the_failure(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1, failing_actions=("recompute_score",))
    nba = me.next_actions[0]
    leaks: list[str] = []

    def check_body(response: Response) -> None:
        # Everything the page received, API answers included, must be free of the secret.
        try:
            if FIXTURE_SECRET in response.text():
                leaks.append(f"{response.request.method} {response.url}")
        except Error:  # a redirect or an aborted load has no body
            pass

    page.on("response", check_body)
    open_queue(page, nba.title)
    run_action(page, nba.title, "recompute_score")
    expect_failed(page)
    # Whether the alert stays or goes again (a toast) is free: no alert may hold the secret.
    expect(page.get_by_role("alert").filter(has_text=FIXTURE_SECRET)).to_have_count(0)

    record = me.user.nba(nba.id)
    assert record["lastExecutionStatus"] == "failed", record
    assert record["lastExecutionErrorCode"], record
    assert FIXTURE_SECRET not in page.content(), "the internal error's secret reached the page"

    open_queue(page, nba.title)  # and once more from a fresh load
    assert FIXTURE_SECRET not in page.content(), "the internal error's secret reached the page"
    assert not leaks, f"the internal error's secret reached the browser in {leaks}"
