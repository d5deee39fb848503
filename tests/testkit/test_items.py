"""The shared account's hand-out (testkit/items.py): items, the run's one token, turns.

A fake account stands in for the target: queued items on one lead, `run_next_actions` making
one item when none is queued (the reference app's default) or closing every queued item and
making two (its other reading). Two SharedAccount objects on one directory stand for two
pytest-xdist workers; `sleep` is where a waiting one would give the other a chance.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from testkit.budget import BudgetPlanner, current_spender
from testkit.fixtures import _note_undeclared_spending
from testkit.items import REPLENISHING, ItemsUnavailable, SharedAccount, SharedWaitTooLong

LEAD = "lead-1"


class FakeAccount:
    """The target's view of one account: item id -> status."""

    def __init__(self, queued: int, *, closes_all: bool = False) -> None:
        self.ids = itertools.count(1)
        self.status = {f"nba-{next(self.ids)}": "queued" for _ in range(queued)}
        self.closes_all = closes_all
        self.executed: list[tuple[str, str]] = []
        self.charged_to: list[str] = []

    def list_items(self, status: str | None = None) -> list[dict[str, Any]]:
        wanted = status or "queued"
        return [{"id": i, "leadId": LEAD, "title": f"t {i}"} for i, s in self.status.items() if s == wanted]

    def execute(self, nba_id: str, action_key: str | None = None) -> httpx.Response:
        self.executed.append((nba_id, str(action_key)))
        self.charged_to.append(current_spender())
        if action_key == "run_next_actions":
            if self.closes_all:
                for item_id, status in self.status.items():
                    if status == "queued":
                        self.status[item_id] = "done"
                self._make(2)
            elif "queued" not in self.status.values():
                self._make(1)
        return httpx.Response(200, json={"ok": True, "executionId": "e"})

    def _make(self, count: int) -> None:
        for _ in range(count):
            self.status[f"nba-{next(self.ids)}"] = "queued"

    def use_up(self, item_id: str) -> None:
        self.status[item_id] = "done"


def worker(
    tmp_path: Path, pid: int, sleep: Callable[[float], None] | None = None, max_wait: float = 5.0
) -> SharedAccount:
    budget = BudgetPlanner(tmp_path / "budget.json", sleep=lambda s: None)
    return SharedAccount(
        tmp_path, budget, pid=pid, alive=lambda p: p in (1, 2), sleep=sleep or (lambda s: None), max_wait=max_wait
    )


def test_two_workers_never_get_the_same_item(tmp_path: Path) -> None:
    target = FakeAccount(5)
    one, two = worker(tmp_path, 1), worker(tmp_path, 2)
    _, mine = one.claim("a", target, 2)
    _, theirs = two.claim("b", target, 2)
    assert len(mine) == 2 and len(theirs) == 2
    assert not set(mine) & set(theirs)
    assert target.executed == [], "five queued items are enough: no replenish"


def test_a_claim_waits_for_items_another_test_holds(tmp_path: Path, said: list[str]) -> None:
    target = FakeAccount(2)
    one = worker(tmp_path, 1)
    one.claim("a", target, 2)
    # While "b" waits, "a" ends its turn (its items stay queued: it only read them).
    two = worker(tmp_path, 2, sleep=lambda s: one.end_turn("a"))
    _, got = two.claim("b", target, 2)
    assert len(got) == 2


def test_a_lead_with_too_few_items_is_replenished_through_run_next_actions(tmp_path: Path) -> None:
    target = FakeAccount(1)
    account = worker(tmp_path, 1)
    _, [only] = account.claim("a", target, 1)
    target.use_up(only)
    account.end_turn("a")
    _, got = account.claim("b", target, 1)
    assert target.executed == [(only, "run_next_actions")], "run on a done item of the lead: none was queued"
    assert got and got[0] != only
    assert target.charged_to == [REPLENISHING], "the budget summary tells a replenish from the test's own runs"


def test_the_other_reading_replenishes_two_at_once(tmp_path: Path) -> None:
    target = FakeAccount(1, closes_all=True)
    _, got = worker(tmp_path, 1).claim("a", target, 2)
    assert len(got) == 2
    assert [key for _, key in target.executed] == ["run_next_actions"]


def test_when_run_next_actions_makes_no_more_the_test_is_told_why(tmp_path: Path) -> None:
    target = FakeAccount(1)  # the default reading makes an item only when none is queued
    with pytest.raises(ItemsUnavailable, match="has 1 queued"):
        worker(tmp_path, 1).claim("a", target, 2)
    assert len(target.executed) == 1, "one run showed it makes no more: no second try"


def test_a_whole_lead_claim_waits_until_no_other_test_holds_an_item_of_it(tmp_path: Path) -> None:
    target = FakeAccount(3)
    one = worker(tmp_path, 1)
    one.claim("a", target, 1)
    released: list[bool] = []

    def let_a_finish(_: float) -> None:
        released.append(True)
        one.end_turn("a")

    _, got = worker(tmp_path, 2, sleep=let_a_finish).claim("b", target, 1, whole_lead=True)
    assert released, "the whole-lead claim waited for test a"
    assert set(got) == {i for i, s in target.status.items() if s == "queued"}


def test_new_claims_wait_while_a_test_waits_for_the_whole_lead(tmp_path: Path) -> None:
    target = FakeAccount(4)
    one, two = worker(tmp_path, 1), worker(tmp_path, 2, max_wait=0.5)
    one.claim("a", target, 1)
    with pytest.raises(SharedWaitTooLong):
        two.claim("b", target, 1, whole_lead=True)  # gives up, but is still registered as waiting
    with pytest.raises(SharedWaitTooLong):
        worker(tmp_path, 2, max_wait=0.5).claim("c", target, 1)


def test_claims_of_a_dead_process_are_dropped(tmp_path: Path) -> None:
    target = FakeAccount(1)
    SharedAccount(tmp_path, BudgetPlanner(tmp_path / "b.json"), pid=99, alive=lambda p: True).claim("a", target, 1)
    _, got = worker(tmp_path, 1).claim("b", target, 1)  # pid 99 is not alive for this one
    assert got == ["nba-1"]


def test_one_login_per_run_and_one_renewal_for_everyone(tmp_path: Path) -> None:
    logins = itertools.count(1)

    def login() -> str:
        return f"token-{next(logins)}"

    one, two = worker(tmp_path, 1), worker(tmp_path, 2)
    assert one.token(login) == two.token(login) == "token-1"
    assert one.renew("token-1", login) == "token-2"
    assert two.renew("token-1", login) == "token-2", "already renewed by the other process: no new login"


@pytest.mark.parametrize("logs_in", [True, False], ids=["login-test", "whole-budget-test"])
def test_an_exclusive_turn_waits_for_the_others_and_renews_the_token_only_if_it_logs_in(
    tmp_path: Path, said: list[str], logs_in: bool
) -> None:
    """A login test may end the token (a new login may end the user's earlier sessions); a
    rate_limit_budget test has the account alone too (no other request inside its window), but
    logs nobody in: the run's token stays."""
    one = worker(tmp_path, 1)
    one.take_turn("reader")
    one.token(lambda: "old")
    two = worker(tmp_path, 2, sleep=lambda s: one.end_turn("reader"))
    two.take_turn("exclusive-test", exclusive=True, logs_in=logs_in)
    with pytest.raises(SharedWaitTooLong):
        worker(tmp_path, 1, max_wait=0.5).take_turn("other")  # waits for the exclusive turn
    two.end_turn("exclusive-test")
    assert one.token(lambda: "new") == ("new" if logs_in else "old")


def test_a_long_wait_for_items_is_said_once(tmp_path: Path, said: list[str]) -> None:
    target = FakeAccount(1)
    worker(tmp_path, 1).claim("a", target, 1)
    with pytest.raises(SharedWaitTooLong, match="queued item"):
        worker(tmp_path, 2, max_wait=10.0).claim("b", target, 1)
    assert len(said) == 1
    assert said[0].startswith("e2e wait: ") and "has waited 3 s (gives up at 10 s)" in said[0]


def test_a_whole_budget_test_waits_until_every_other_test_is_over(tmp_path: Path, said: list[str]) -> None:
    """It goes last: a request after it would wait until its window has room again."""
    other = worker(tmp_path, 2)
    other.finished("a")
    me = worker(tmp_path, 1, sleep=lambda s: other.finished("b"))
    assert me.wait_for_the_others("rate-limit", ["a", "b", "rate-limit"]) is True
    assert said == []


def test_a_whole_budget_test_goes_on_when_a_test_never_ends(tmp_path: Path, said: list[str]) -> None:
    """A worker that died leaves its tests unfinished: the wait is bounded, and said."""
    me = worker(tmp_path, 1, max_wait=5.0)
    assert me.wait_for_the_others("rate-limit", ["lost", "rate-limit"]) is False
    assert said[-1].endswith(
        "went on after waiting 5 s for every other test of the run to finish (it spends the "
        "whole rate-limit budget, so it goes last); 1 are not, e.g. lost"
    )


def test_a_test_that_used_up_more_items_than_it_declares_is_noted(tmp_path: Path) -> None:
    account = worker(tmp_path, 1)
    refs = [SimpleNamespace(id="nba-1"), SimpleNamespace(id="nba-2")]
    user: Any = SimpleNamespace(
        fixture=SimpleNamespace(next_actions=refs), list_items=lambda status=None: [{"id": "nba-2"}]
    )
    _note_undeclared_spending(account, "declares-one", user, 1)  # used up one: as declared
    _note_undeclared_spending(account, "declares-none", user, 0)
    assert account.undeclared() == [("declares-none", 1, 0)]
