"""Run the next-actions pipeline for a lead from the queue."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from specs.accounts import MakeAccount
from specs.helpers import act, item, open_queue, queue

pytestmark = pytest.mark.mutating


@pytest.mark.shared_items(1, whole_lead=True)
def test_run_next_actions_leaves_the_lead_with_queued_work(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    open_queue(page, nba.title)
    act(page, me, nba, "run_next_actions")

    # The item that ran stays readable by id; the lead has queued, unsnoozed work.
    assert me.user.nba(nba.id)["id"] == nba.id
    queued = [i for i in me.user.list_items() if i["leadId"] == me.lead_id]
    assert queued, f"lead {me.lead_id} should have a queued next action after run_next_actions"

    page.reload()
    expect(queue(page)).to_be_visible()
    expect(item(page, queued[0]["title"]).first).to_be_visible()
