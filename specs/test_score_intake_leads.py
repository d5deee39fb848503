"""Recompute a lead's score from the queue, and see it on the lead's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from contracts.api import CLOCK_SLACK, parse_time, server_now
from specs.accounts import MakeAccount
from specs.helpers import act, open_queue, score_text

pytestmark = pytest.mark.mutating


def test_recompute_score_moves_the_score_time_and_the_page_shows_the_score(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=1)
    nba = me.next_actions[0]
    before = me.user.get(f"/api/leads/{me.lead_id}")
    assert before.status_code == 200, before.text
    previous = before.json()["scoreUpdatedAt"]

    open_queue(page, nba.title)
    act(page, me, nba, "recompute_score")

    after = me.user.get(f"/api/leads/{me.lead_id}")
    lead = me.user.lead(me.lead_id)
    assert lead["scoreUpdatedAt"] is not None, f"scoreUpdatedAt should be set: {lead}"
    assert lead["scoreUpdatedAt"] != previous, f"scoreUpdatedAt did not move: {lead}"
    updated = parse_time(lead["scoreUpdatedAt"], "scoreUpdatedAt")
    assert server_now(before) - CLOCK_SLACK <= updated <= server_now(after) + CLOCK_SLACK, (
        f"scoreUpdatedAt {lead['scoreUpdatedAt']} should move to the time of the click "
        f"(between {before.headers['date']} and {after.headers['date']})"
    )

    page.goto(f"/leads/{me.lead_id}")
    expect(page.get_by_role("heading", level=1, name=lead["name"], exact=True)).to_be_visible()
    expect(page.get_by_text(score_text(lead["score"])).first).to_be_visible()
