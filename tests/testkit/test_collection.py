"""The order of a run on the shared account (testkit/collection.py `shared_order`), on fake items."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from testkit.collection import Turn, order_items


def _item(nodeid: str, *marks: pytest.MarkDecorator) -> pytest.Item:
    by_name = {mark.mark.name: mark.mark for mark in marks}
    return cast(pytest.Item, SimpleNamespace(nodeid=nodeid, get_closest_marker=lambda name: by_name.get(name)))


def _order(items: list[pytest.Item]) -> list[str]:
    order_items(items, shared_budget=True)
    return [cast(Any, item).nodeid for item in items]


def test_the_seeded_items_go_first_to_those_who_give_them_back_then_to_the_smallest_spenders() -> None:
    """Five seeded items, and run_next_actions makes one only when none is queued: the tests that
    give several items back go first, then those that use the fewest up, the bigger need first.
    Before them all, a test that needs an item no action ran on yet."""
    mark = pytest.mark
    items = [
        _item("single_spender", mark.shared_items(1, spends=1)),
        _item("whole_budget", mark.rate_limit_budget),
        _item("plain"),
        _item("three_uses_two", mark.shared_items(3, whole_lead=True, spends=2)),
        _item("two_uses_two", mark.shared_items(2, spends=2)),
        _item("two_uses_one", mark.shared_items(2, spends=1)),
        _item("two_reads", mark.shared_items(2)),
        _item("single_reader", mark.shared_items(1)),
        _item("runs_next_actions", mark.shared_items(1, whole_lead=True)),
        _item("needs_a_never_executed_item", mark.shared_items(1, unexecuted=True)),
    ]
    assert _order(items) == [
        "needs_a_never_executed_item",
        "two_reads",
        "two_uses_one",
        "three_uses_two",
        "two_uses_two",
        "plain",
        "single_reader",
        "single_spender",
        "runs_next_actions",
        "whole_budget",
    ]


def test_the_turn_a_test_takes_on_the_shared_account() -> None:
    mark = pytest.mark
    assert Turn.of(_item("reads"), ["api", "reader"]) == Turn(exclusive=False, logs_in=False, whole_budget=False)
    assert Turn.of(_item("logs_in", mark.shared_login), ["fresh"]) == Turn(
        exclusive=True, logs_in=True, whole_budget=False
    )
    assert Turn.of(_item("no_account"), ["api", "isolated"]) is None


def test_a_whole_budget_test_takes_its_turn_alone_even_when_it_asks_for_the_account_at_run_time() -> None:
    """test_21st_request_is_rate_limited_with_retry_after gets the account by getfixturevalue:
    without a turn its requests went unplanned, and another test's next request met a 429."""
    turn = Turn.of(_item("rate_limit", pytest.mark.rate_limit_budget), ["fixtures_enabled", "make_user", "request"])
    assert turn == Turn(exclusive=True, logs_in=False, whole_budget=True)
