"""scripts/repeat.py: which tests are flaky across N runs, read from each run's JUnit XML."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts import repeat

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="5">
<testcase classname="contracts.test_a" name="test_ok" time="0.1"/>
<testcase classname="contracts.test_a" name="test_bad[x]" time="0.1"><failure message="boom">x</failure></testcase>
<testcase classname="contracts.test_a" name="test_fixture" time="0.1"><error message="setup">x</error></testcase>
<testcase classname="contracts.test_a" name="test_skip" time="0.0"><skipped message="why">x</skipped></testcase>
<testcase classname="contracts.test_a" name="test_teardown" time="0.1"/>
<testcase classname="contracts.test_a" name="test_teardown" time="0.1"><error message="teardown">x</error></testcase>
</testsuite></testsuites>
"""


def test_outcomes_reads_failures_errors_and_skips(tmp_path: Path) -> None:
    report = tmp_path / "run.xml"
    report.write_text(REPORT)
    assert repeat.outcomes(report) == {
        "contracts.test_a::test_ok": "passed",
        "contracts.test_a::test_bad[x]": "failed",
        "contracts.test_a::test_fixture": "failed",
        "contracts.test_a::test_skip": "skipped",
        "contracts.test_a::test_teardown": "failed",
    }


def test_tally_separates_flaky_from_always_failing() -> None:
    tally = repeat.Tally()
    tally.add(1, {"a": "passed", "flaky": "failed", "always": "failed", "skip": "skipped"}, 1)
    tally.add(2, {"a": "passed", "flaky": "passed", "always": "failed", "skip": "skipped"}, 1)
    tally.add(3, {"a": "passed", "flaky": "passed", "always": "failed", "skip": "failed"}, 1)
    tally.add(4, {"a": "passed", "flaky": "failed", "always": "failed", "skip": "skipped"}, 1)
    assert tally.flaky() == [("flaky", 2, 4)]
    # skipped runs do not count: "skip" failed in the only run that ran it.
    assert tally.always_failing() == [("always", 4, 4), ("skip", 1, 1)]
    assert not tally.ok
    lines = tally.report()
    assert "repeat: 1 flaky test(s) (failed in some runs, not all)" in lines
    assert "  2/4  flaky" in lines and "  4/4  always" in lines


def test_a_clean_tally_is_ok_and_a_silent_failure_is_not() -> None:
    tally = repeat.Tally()
    tally.add(1, {"a": "passed"}, 0)
    tally.add(2, {}, 5)  # nothing collected
    assert tally.ok and tally.flaky() == [] and tally.always_failing() == []
    tally.add(3, {"a": "passed"}, 1)  # the fuzz summary failed the session, say
    tally.add(4, None, 3)  # pytest crashed before writing its report
    assert not tally.ok
    assert tally.silent_failures == [(3, 1), (4, 3)]
    assert any("run 4 exited 3 with no failing test" in line for line in tally.report())


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "usage"), (["x"], "whole number, got 'x'"), (["0"], "1..100, got 0"), (["101"], "1..100, got 101")],
)
def test_usage_errors_say_what_to_pass(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert repeat.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_parse_args_defaults_to_the_suite() -> None:
    assert repeat.parse_args(["3"]) == (3, ["contracts", "specs"])
    assert repeat.parse_args(["2", "contracts/test_auth.py", "-x"]) == (2, ["contracts/test_auth.py", "-x"])


FLAKY_PROJECT = """
from pathlib import Path

COUNTER = Path(__file__).with_name("count.txt")


def test_steady():
    pass


def test_every_other_run():
    n = int(COUNTER.read_text()) if COUNTER.exists() else 0
    COUNTER.write_text(str(n + 1))
    assert n % 2 == 1, f"run {n + 1} fails"
"""


def test_repeat_runs_pytest_n_times_and_finds_the_flaky_test(
    pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    pytester.makepyfile(test_flaky=FLAKY_PROJECT)
    args = ["3", "test_flaky.py", "-p", "no:randomly", "-p", "no:xdist", "-p", "no:e2e_safety", "-q"]
    assert repeat.main(args) == 1
    out = capsys.readouterr().out
    assert "repeat: 3 run(s), 2 test(s) ran" in out
    assert "  2/3  test_flaky::test_every_other_run" in out
    assert "repeat: 0 test(s) failed in every run that ran them" in out
