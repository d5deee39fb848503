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
        f"e2e wait: {request.node.nodeid} waits {WINDOW - 10:.0f} s: the shared account's execute budget "
        f"({PACE} per {WINDOW:.0f} s, planned across workers) is taken"
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


def test_a_whole_budget_test_spends_without_waiting_and_the_others_wait_for_its_window(
    tmp_path: Path, clock: FakeClock, said: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = planner(tmp_path, clock)
    for _ in range(15):
        plan.reserve()  # planned requests of other tests, 10 s before the whole-budget test
    clock.now += 10
    holder = "contracts/test_execute_ratelimit.py::test_21st"
    with plan.hold(holder):
        assert plan.wait_needed(plan._load(), clock(), who="another test") > 0, "nobody else reserves meanwhile"
        monkeypatch.setenv("PYTEST_CURRENT_TEST", f"{holder} (call)")
        for _ in range(6):  # up to the server's 429: past PACE in the window, without waiting
            assert plan.reserve() == 0
        monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert clock.slept == []
    # 21 requests in the window: the next waits until two have left it, the first 15 at once.
    assert plan.reserve() == pytest.approx(WINDOW - 10)


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
        ("the run", 1),
    ]


SUMMARY_CONFTEST = 'pytest_plugins = ["testkit.fixtures"]\n'
SUMMARY_TESTS = """
import pytest
from testkit.budget import spending_for
from testkit.fixtures import shared_account

def test_spends_three(request):
    budget = shared_account(request.config).budget
    budget.reserve(3)
    with spending_for("replenishing the queue"):
        budget.reserve(2)

@pytest.mark.parametrize("n", range(9))
def test_spends_one(request, n):
    shared_account(request.config).budget.reserve()

def test_uses_an_item_up_unsaid(request):
    shared_account(request.config).note_undeclared("test_spend.py::test_uses_an_item_up_unsaid", 1, 0)
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_the_end_summary_names_who_spent_the_budget(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, verbose: bool
) -> None:
    monkeypatch.setenv("E2E_EMAIL", "qa@example.test")
    monkeypatch.setenv("E2E_PASSWORD", "not-a-real-password")
    pytester.makeconftest(SUMMARY_CONFTEST)
    pytester.makepyfile(test_spend=SUMMARY_TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:randomly", *(["-v"] if verbose else []))
    result.assert_outcomes(passed=11)
    result.stdout.fnmatch_lines(
        [
            "e2e shared account: test_spend.py::test_uses_an_item_up_unsaid used up 1 of the queued items it held "
            "but declares spends=0: mark it @pytest.mark.shared_items(..., spends=1) *"
        ]
    )
    result.stdout.fnmatch_lines(
        [f"e2e shared account: 14 execute request(s) planned across the run's processes ({PACE} per {WINDOW:.0f} s)*"]
    )
    [line] = [line for line in result.outlines if line.startswith("e2e shared account, execute requests by test: ")]
    spenders = line.split(": ", 1)[1]
    # The biggest first, then by name; a replenish is charged apart from the test that needed it.
    assert spenders.startswith(
        "test_spend.py::test_spends_three 3, replenishing the queue 2, test_spend.py::test_spends_one[0] 1, "
    ), line
    if verbose:
        assert spenders.endswith("test_spend.py::test_spends_one[8] 1"), line
    else:
        assert spenders.endswith("test_spend.py::test_spends_one[5] 1 (and 3 more: -v lists them all)"), line
