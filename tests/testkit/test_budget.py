"""The shared account's execute budget, planned across processes (testkit/budget.py), on a fake clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit.budget import PACE, WINDOW, BudgetPlanner, spending_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def planner(path: Path, clock: FakeClock) -> BudgetPlanner:
    return BudgetPlanner(path / "budget.json", clock=clock, sleep=clock.sleep)


def test_the_first_pace_slots_of_a_window_are_free(tmp_path: Path, clock: FakeClock, said: list[str]) -> None:
    plan = planner(tmp_path, clock)
    for _ in range(PACE):
        assert plan.reserve() == 0
    assert clock.slept == []
    assert said == []
    assert plan.totals() == (PACE, 0.0)


def test_the_next_slot_waits_until_the_oldest_leaves_the_window(
    tmp_path: Path, clock: FakeClock, said: list[str], request: pytest.FixtureRequest
) -> None:
    plan = planner(tmp_path, clock)
    plan.reserve()
    clock.now += 10  # the first slot was taken 10 s before the others
    for _ in range(PACE - 1):
        plan.reserve()
    waited = plan.reserve()
    assert waited == pytest.approx(WINDOW - 10)
    assert said == [
        f"e2e wait: {request.node.nodeid} waits 50 s: the shared account's execute budget "
        f"({PACE} per 60 s, planned across workers) is taken"
    ]


def test_two_planners_on_one_file_share_the_budget(tmp_path: Path, clock: FakeClock, said: list[str]) -> None:
    """Two processes of one run: each reserves from the same file."""
    first, second = planner(tmp_path, clock), planner(tmp_path, clock)
    for n in range(PACE):
        (first if n % 2 else second).reserve()
    assert second.reserve() == pytest.approx(WINDOW)


def test_a_short_wait_says_nothing(tmp_path: Path, clock: FakeClock, said: list[str]) -> None:
    plan = planner(tmp_path, clock)
    for _ in range(PACE):
        plan.reserve()
    clock.now += WINDOW - 2  # the window frees its first slot in 2 s
    assert plan.reserve() == pytest.approx(2)
    assert said == []


def test_a_whole_budget_test_keeps_others_waiting_a_window_after_it(
    tmp_path: Path, clock: FakeClock, said: list[str]
) -> None:
    plan = planner(tmp_path, clock)
    with plan.hold("contracts/test_execute_ratelimit.py::test_21st"):
        assert plan.wait_needed(plan._load(), clock()) > 0, "nobody reserves while the budget is held"
        clock.now += 5
    assert plan.reserve() == pytest.approx(WINDOW + 1)


def test_a_block_after_retry_after_delays_every_reservation(tmp_path: Path, clock: FakeClock, said: list[str]) -> None:
    plan = planner(tmp_path, clock)
    plan.block_for(30)
    assert plan.reserve() == pytest.approx(30)


def test_more_slots_than_the_pace_at_once_is_refused(tmp_path: Path, clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="cannot reserve"):
        planner(tmp_path, clock).reserve(PACE + 1)


def test_spenders_are_counted_per_test_biggest_first(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planner(tmp_path, clock)
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "contracts/test_a.py::test_one (call)")
    plan.reserve()
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "contracts/test_b.py::test_two[x y] (setup)")
    plan.reserve(3)
    plan.reserve()
    with spending_for("replenishing"):
        plan.reserve(2)
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    plan.reserve()
    assert plan.spenders() == [
        ("contracts/test_b.py::test_two[x y]", 4),
        ("replenishing", 2),
        ("contracts/test_a.py::test_one", 1),
        ("outside a test", 1),
    ]
