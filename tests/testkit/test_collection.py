"""The order of a run on the shared account (testkit/collection.py `shared_order`), on fake items."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from testkit.collection import order_items


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
