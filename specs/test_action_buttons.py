"""The queue's items: each holds its title and one button per action, and each button runs its own action."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from specs.accounts import MakeAccount
from specs.helpers import LABELS, act, button, item, open_queue, wait_for_executions

pytestmark = pytest.mark.mutating


def test_every_item_holds_its_title_and_one_button_per_action(page: Page, sign_in: MakeAccount) -> None:
    me = sign_in(next_actions=2)
    open_queue(page, *(nba.title for nba in me.next_actions))
    for nba in me.next_actions:
        expect(item(page, nba.title)).to_have_count(1)
        for key in LABELS:
            expect(button(page, nba.title, key)).to_have_count(1)


def test_each_button_runs_its_own_action(page: Page, sign_in: MakeAccount) -> None:
    # run_next_actions goes last: whether it keeps the lead's other items is free.
    keys = sorted(LABELS, key=lambda key: key == "run_next_actions")
    me = sign_in(next_actions=len(keys))
    open_queue(page, *(nba.title for nba in me.next_actions))
    for nba, key in zip(me.next_actions, keys, strict=True):
        ran_before = len(me.user.executions(nba.id))
        act(page, me, nba, key)
        newest = wait_for_executions(page, me, nba.id, ran_before + 1)[0]
        assert newest["actionKey"] == key, f"the {LABELS[key]!r} button on {nba.title!r} ran {newest}"
