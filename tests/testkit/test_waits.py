"""Wait lines (testkit/waits.py): who waits, how long, why; past pytest's capture, under -n too."""

from __future__ import annotations

import pytest

from testkit import waits


def test_a_wait_longer_than_the_notice_threshold_is_one_line(said: list[str], request: pytest.FixtureRequest) -> None:
    assert waits.notice(42.4, "POST /api/next-actions/x/execute answered 429 with Retry-After '42'")
    assert said == [
        f"e2e wait: {request.node.nodeid} waits 42 s: POST /api/next-actions/x/execute answered 429 "
        "with Retry-After '42'"
    ]


def test_a_short_wait_says_nothing(said: list[str]) -> None:
    assert not waits.notice(waits.NOTICE_SECONDS, "anything")
    assert said == []


def test_outside_a_test_the_run_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert waits.current_test() == "the run"


CONFTEST = """
from testkit import waits

def pytest_configure(config):
    waits.install(config.pluginmanager.get_plugin("capturemanager"))
"""

TEST = """
from testkit import waits

def test_waits():
    waits.notice(30, "the shared account's execute budget is taken")
"""


@pytest.mark.parametrize("workers", ["2"])
def test_the_line_passes_pytests_capture_also_under_xdist(pytester: pytest.Pytester, workers: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_wait=TEST)
    result = pytester.runpytest_subprocess("-n", workers, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stderr.fnmatch_lines(
        ["e2e wait: test_wait.py::test_waits waits 30 s: the shared account's execute budget is taken"]
    )
