"""A fuzz run that reached little is not green (contracts.fuzz.reach, issue 12 item 3)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from contracts.fuzz import reach
from contracts.fuzz.session import FuzzSession, FuzzSummary
from contracts.fuzz.settings import Budget

EXECUTE = reach.EXECUTE_LABEL
LIST = "GET /api/next-actions"

# The healthy run seen against the reference app, and issue 12's run after the target ended
# the fuzzer's session on a login: about 760 answers became 401.
HEALTHY = {EXECUTE: {200: 22, 400: 30, 404: 28, 405: 7, 500: 10, 401: 2}, LIST: {200: 30, 400: 38}}
DEAD_TOKEN = {EXECUTE: {200: 9, 401: 410, 400: 12}, LIST: {200: 20, 401: 350, 400: 5}}


def test_a_healthy_run_has_no_problem() -> None:
    assert reach.reach_problems(HEALTHY) == []


def test_a_run_of_mostly_401_fails_and_says_so() -> None:
    problems = reach.reach_problems(DEAD_TOKEN)
    assert problems, "a run answered 401 760 times out of 806 must fail"
    assert "most answers of the run were 401 or 429 (760 answered 401, 0 answered 429, of 806)" in problems[0]
    assert "token died" in problems[0]
    assert any(EXECUTE in p for p in problems) and any(LIST in p for p in problems)


def test_one_operation_of_mostly_429_fails() -> None:
    answers = {**HEALTHY, EXECUTE: {429: 40, 200: 5}}
    problems = reach.reach_problems(answers)
    assert [p for p in problems if EXECUTE in p and "40 answered 429" in p]


def test_few_answers_or_exactly_half_is_not_a_verdict() -> None:
    assert reach.reach_problems({EXECUTE: {401: 19}}) == []
    assert reach.reach_problems({EXECUTE: {401: 20, 200: 20}}) == []


def test_a_logins_401_is_an_answer_not_a_bounce() -> None:
    # invalid_credentials (section 2) is what most fuzzed logins get.
    assert reach.reach_problems({"POST /api/auth/login": {401: 60, 400: 10}}) == []


def test_execute_line_says_how_far_its_cases_got() -> None:
    lines = reach.operation_lines({EXECUTE: {200: 3, 500: 1, 404: 2, 401: 4, 429: 1}})
    assert lines == [
        f"fuzz:   {EXECUTE}: 200: 3, 401: 4, 404: 2, 429: 1, 500: 1 "
        "(6 of 11 got past auth and the rate limit, 4 reached the action)"
    ]


def test_delta_counts_only_the_answers_in_between() -> None:
    before = {EXECUTE: Counter({200: 2}), LIST: Counter({200: 1})}
    after = {EXECUTE: Counter({200: 5, 401: 1}), LIST: Counter({200: 1})}
    assert reach.delta(after, before) == {EXECUTE: Counter({200: 3, 401: 1})}


class _Reporter:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def write_sep(self, sep: str, title: str) -> None:
        self.lines.append(title)

    def write_line(self, line: str, **kw: object) -> None:
        self.lines.append(line)


class _Session:
    exitstatus = pytest.ExitCode.OK


def test_the_summary_fails_the_run_and_prints_why(tmp_path: Path) -> None:
    fuzz = FuzzSession(
        "http://127.0.0.1:9",
        Budget(examples=5, stateful_steps=2, source="test", profile="test"),
        1,
        True,
        artifacts=tmp_path,
    )
    for label, counts in DEAD_TOKEN.items():
        for status, n in counts.items():
            for _ in range(n):
                fuzz.stats.record(label, status)
    summary = FuzzSummary()
    summary.sessions.append(fuzz)
    session = _Session()
    summary.pytest_sessionfinish(session, 0)  # type: ignore[arg-type]
    assert session.exitstatus == pytest.ExitCode.TESTS_FAILED
    reporter = _Reporter()
    summary.pytest_terminal_summary(reporter)
    text = "\n".join(reporter.lines)
    assert "fuzz: FAILED: most answers of the run were 401 or 429" in text
    assert f"{EXECUTE}: 200: 9, 400: 12, 401: 410 (21 of 431 got past auth and the rate limit, 9 reached" in text
    assert (tmp_path / "summary.json").exists() or list(tmp_path.glob("summary*.json"))


INNER_TEST = """
import pytest

from contracts.fuzz.fixtures import _fuzz_figures  # noqa: F401 - the fixture under test
from contracts.fuzz.session import FuzzSession
from contracts.fuzz.settings import Budget

SESSION = FuzzSession(
    "http://127.0.0.1:9", Budget(5, 2, "test", "test"), 1, True, artifacts=__import__("pathlib").Path(".")
)


@pytest.fixture
def fuzz():
    return SESSION


def test_healthy(fuzz):
    for _ in range(30):
        fuzz.stats.record("POST /api/next-actions/{id}/execute", 200)


def test_dead_token(fuzz):
    for _ in range(30):
        fuzz.stats.record("POST /api/next-actions/{id}/execute", 401)
"""


def test_a_fuzz_test_whose_answers_were_mostly_401_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:xdist", "--rootdir", str(pytester.path))
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_dead_token*", "*this fuzz test reached too little*"])
