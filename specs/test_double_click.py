"""A double click on an action button runs the action once."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from specs.accounts import MakeAccount
from specs.helpers import FailingExecute, act, button, expect_failed, open_queue, settled_executions

pytestmark = pytest.mark.mutating


def test_double_click_runs_the_action_once(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    ran_before = len(me.user.executions(nba.id))  # 0 for a fixtures user
    open_queue(page, nba.title)
    act(page, me, nba, "recompute_score", double=True)
    # Ready again means the page is done with this click, whatever it sent.
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()

    executions = settled_executions(page, me, nba.id)
    new = executions[: len(executions) - ran_before]  # newest first
    assert len(new) == 1, f"a double click should run the action once; got {new}"
    assert new[0]["actionKey"] == "recompute_score", new


def test_a_double_click_on_a_failing_action_runs_it_once(page: Page, sign_in: MakeAccount) -> None:
    # The failure path too: a failed run must neither be sent again nor let the second click through.
    me = sign_in(next_actions=1, failing_actions=("recompute_score",))
    nba = me.next_actions[0]
    open_queue(page, nba.title)
    button(page, nba.title, "recompute_score").dblclick()
    expect_failed(page)
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()

    executions = settled_executions(page, me, nba.id)
    assert len(executions) == 1, f"a double click on a failing action should run it once; got {executions}"
    assert executions[0]["status"] == "failed", executions


@pytest.mark.shared_items(1)
def test_a_double_click_on_a_faked_failing_answer_runs_it_once(page: Page, sign_in: MakeAccount) -> None:
    # The same on any target, a staging without POST /api/e2e/fixtures included: the answer is
    # faked in the browser (specs.helpers.FailingExecute), and held until both clicks landed.
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    ran_before = len(me.user.executions(nba.id))
    open_queue(page, nba.title)
    fake = FailingExecute(page, hold=True)
    button(page, nba.title, "recompute_score").dblclick()
    fake.wait_for_requests(1)
    fake.release()
    expect_failed(page)
    expect(button(page, nba.title, "recompute_score")).to_be_enabled()
    fake.settle()
    assert fake.runs == 1, (
        f"a double click on a failing action should run it once; the page sent {len(fake.requests)} request(s), "
        f"which would run it {fake.runs} time(s)"
    )
    assert len(me.user.executions(nba.id)) == ran_before, "a faked execute request reached the server and ran"
