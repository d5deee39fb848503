"""An action that fails inside the app: the page says so, without leaking the internal error.

The first three specs need a really failing action, which only POST /api/e2e/fixtures makes
(`failingActions`, section 4): they check the Execution records and that the internal error's
secret never reaches the page, and skip where the endpoint is absent. The `faked` specs check
the page's handling of a failing answer on any target, the shared E2E_EMAIL account included:
the page's execute request is answered in the browser with section 6's 500 `execution_failed`
(`specs.helpers.FailingExecute`), so nothing reaches the server and nothing runs.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error, Page, Response, Route, expect

from contracts.api import FIXTURE_SECRET
from specs.accounts import MakeAccount
from specs.helpers import (
    SUCCEEDED,
    FailingExecute,
    button,
    expect_failed,
    open_queue,
    run_action,
    settled_executions,
    wait_for_executions,
)

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

    # Ready again means the page is done with this click: it ran once, and failed.
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()
    executions = settled_executions(page, me, nba.id)
    assert len(executions) == 1, f"one click on a failing action should run it once; got {executions}"
    record = me.user.nba(nba.id)
    assert record["lastExecutionStatus"] == "failed", record
    assert record["lastExecutionErrorCode"], record
    assert FIXTURE_SECRET not in page.content(), "the internal error's secret reached the page"

    open_queue(page, nba.title)  # and once more from a fresh load
    assert FIXTURE_SECRET not in page.content(), "the internal error's secret reached the page"
    assert not leaks, f"the internal error's secret reached the browser in {leaks}"


def test_nothing_says_succeeded_before_a_failing_answer(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1, failing_actions=("recompute_score",))
    nba = me.next_actions[0]
    succeeded = page.get_by_role("status").filter(has_text=SUCCEEDED)
    held: list[Route] = []

    def hold(route: Route) -> None:
        # Hold what the click sends (a write, whatever its URL); let the page's reads through.
        if route.request.method in ("GET", "HEAD"):
            route.continue_()
        else:
            held.append(route)

    open_queue(page, nba.title)
    page.route("**/*", hold)
    run_action(page, nba.title, "recompute_score")
    deadline = time.monotonic() + 10
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets Playwright deliver the held request to `hold`
    assert held, "the click on Recompute score sent no request within 10 s"
    # The answer has not arrived: nothing may say the action succeeded.
    expect(succeeded).to_have_count(0)
    # Continued before the handler goes: removing it first hands the held requests on, and
    # continuing them afterwards fails ("already handled").
    for route in held:
        route.continue_()
    page.unroute("**/*", hold)
    expect_failed(page)
    expect(succeeded).to_have_count(0)


def test_a_failed_action_runs_again_on_the_next_click(page: Page, sign_in: MakeAccount) -> None:
    # Each click is a new run: after a failure the button works again, and runs the action again.
    me = sign_in(next_actions=1, failing_actions=("recompute_score",))
    nba = me.next_actions[0]
    open_queue(page, nba.title)
    run_action(page, nba.title, "recompute_score")
    expect_failed(page)
    wait_for_executions(page, me, nba.id, 1)
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()

    run_action(page, nba.title, "recompute_score")
    executions = wait_for_executions(page, me, nba.id, 2)
    assert [e["status"] for e in executions] == ["failed", "failed"], executions


# --------------------------------------------------------------------------- faked failing answers
# Each holds one queued item (the shared account's items are not used up: nothing runs).


@pytest.mark.shared_items(1)
def test_a_faked_failing_answer_shows_an_alert_and_nothing_says_succeeded(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    ran_before = len(me.user.executions(nba.id))
    succeeded = page.get_by_role("status").filter(has_text=SUCCEEDED)
    open_queue(page, nba.title)
    fake = FailingExecute(page, hold=True)
    run_action(page, nba.title, "recompute_score")
    fake.wait_for_requests(1)
    # The answer has not arrived: nothing may say the action succeeded.
    expect(succeeded).to_have_count(0)
    fake.release()
    expect_failed(page)
    expect(succeeded).to_have_count(0)

    # Ready again means the page is done with this click: what it sent would have run once.
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()
    fake.settle()
    assert fake.runs == 1, f"one click should run the action once; the page sent {len(fake.requests)} request(s)"
    assert len(me.user.executions(nba.id)) == ran_before, "a faked execute request reached the server and ran"


@pytest.mark.shared_items(1)
def test_after_a_faked_failing_answer_the_next_click_runs_again(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    ran_before = len(me.user.executions(nba.id))
    open_queue(page, nba.title)
    fake = FailingExecute(page)
    run_action(page, nba.title, "recompute_score")
    fake.wait_for_requests(1)
    expect_failed(page)
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()
    fake.settle()
    assert fake.runs == 1, f"one click should run the action once; the page sent {len(fake.requests)} request(s)"

    # Each click is a new run: a second request, under a key of its own (a reused key runs nothing).
    run_action(page, nba.title, "recompute_score")
    fake.wait_for_requests(2)
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()
    fake.settle()
    assert fake.runs == 2, (
        f"a second click after a failure should run the action again, once; the page sent {len(fake.requests)} "
        f"request(s) in all, which would run it {fake.runs} time(s)"
    )
    assert len(me.user.executions(nba.id)) == ran_before, "a faked execute request reached the server and ran"
