"""The queue's items: each holds its title and one button per action, and each button runs its own action."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from specs.accounts import MakeAccount
from specs.helpers import LABELS, act, button, item, open_queue, wait_for_executions

pytestmark = pytest.mark.mutating


@pytest.mark.shared_items(2)
def test_every_item_holds_its_title_and_one_button_per_action(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=2)
    open_queue(page, *(nba.title for nba in me.next_actions))
    for nba in me.next_actions:
        expect(item(page, nba.title)).to_have_count(1)
        for key in LABELS:
            expect(button(page, nba.title, key)).to_have_count(1)


#: Which of three items each button is clicked on, in click order. An item stays queued through
#: the actions that keep it (a staging account has a handful of items: one per button would need
#: six); snooze_1d and mark_done take it out of the queue, so each gets an item of its own; and
#: run_next_actions goes last: whether it keeps the lead's other items is free.
CLICKS = (
    (0, "recompute_score"),
    (0, "run_risk_rules"),
    (0, "retry_failed_deliveries"),
    (1, "snooze_1d"),
    (2, "mark_done"),
    (0, "run_next_actions"),
)


# whole_lead: run_next_actions may close every queued item of the lead (free); snooze_1d and
# mark_done use two of the three up.
@pytest.mark.shared_items(3, whole_lead=True, spends=2)
def test_each_button_runs_its_own_action(page: Page, sign_in: MakeAccount) -> None:
    assert sorted(key for _, key in CLICKS) == sorted(LABELS), "every button is clicked once"
    me = sign_in(next_actions=3)
    open_queue(page, *(nba.title for nba in me.next_actions))
    for index, key in CLICKS:
        nba = me.next_actions[index]
        ran_before = len(me.user.executions(nba.id))
        act(page, me, nba, key)
        newest = wait_for_executions(page, me, nba.id, ran_before + 1)[0]
        assert newest["actionKey"] == key, f"the {LABELS[key]!r} button on {nba.title!r} ran {newest}"
