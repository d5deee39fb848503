"""Risk rules and next-best-action handling from the queue page.

Run risk rules on an item and see the evaluation on the lead's page; snooze an item and mark
one done, and see each leave the queue (yet stay readable through the API).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from contracts.api import CLOCK_SLACK, assert_near, parse_time, server_now
from specs.accounts import MakeAccount
from specs.helpers import act, expect_gone_after_reload, open_queue

pytestmark = pytest.mark.mutating


def test_run_risk_rules_then_the_lead_page_shows_the_evaluation(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    before = me.user.get(f"/api/leads/{me.lead_id}")
    assert before.status_code == 200, before.text

    open_queue(page, nba.title)
    act(page, me, nba, "run_risk_rules")

    after = me.user.get(f"/api/leads/{me.lead_id}")
    lead = me.user.lead(me.lead_id)
    evaluated = parse_time(lead["riskEvaluatedAt"], "riskEvaluatedAt")
    assert server_now(before) - CLOCK_SLACK <= evaluated <= server_now(after) + CLOCK_SLACK, (
        f"riskEvaluatedAt {lead['riskEvaluatedAt']} should move to the time of the click "
        f"(between {before.headers['date']} and {after.headers['date']})"
    )

    page.goto(f"/leads/{me.lead_id}")
    expect(page.get_by_role("heading", level=1, name=lead["name"], exact=True)).to_be_visible()
    # With no flags the contract says nothing about the list; with flags, each code shows.
    flags = page.get_by_role("list", name="Risk flags", exact=True)
    for flag in lead["riskFlags"]:
        expect(flags.get_by_role("listitem").filter(has_text=flag["code"]).first).to_be_visible()


@pytest.mark.shared_items(2, spends=1)
def test_snooze_1_day_hides_the_item_but_keeps_it_readable(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=2)
    snoozed, other = me.next_actions
    open_queue(page, snoozed.title, other.title)
    act(page, me, snoozed, "snooze_1d")

    expect_gone_after_reload(page, gone=snoozed.title, still_there=other.title)
    response = me.user.get(f"/api/next-actions/{snoozed.id}")
    nba = me.user.nba(snoozed.id)
    assert nba["snoozedUntil"] is not None, f"snoozedUntil should be set: {nba}"
    until = parse_time(nba["snoozedUntil"], "snoozedUntil")
    # The item was snoozed a moment before this GET: within 5 minutes of its Date + 24 h.
    assert_near(until, server_now(response) + timedelta(hours=24), timedelta(minutes=5), "snoozedUntil")
    assert nba["status"] == "queued", nba


@pytest.mark.shared_items(2, spends=1)
def test_mark_done_removes_the_item(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=2)
    done, other = me.next_actions
    open_queue(page, done.title, other.title)
    act(page, me, done, "mark_done")

    expect_gone_after_reload(page, gone=done.title, still_there=other.title)
    assert me.user.nba(done.id)["status"] == "done"
