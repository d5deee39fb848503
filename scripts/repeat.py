"""Measure flakiness: run the suite N times and list each test that failed in some runs but not all.

    scripts/repeat N [pytest args]      (default args: contracts specs)

Each run writes its own JUnit XML report; the tally reads them. Printed at the end:

- flaky tests (failed or errored in some of the runs that ran them, not all), with the
  frequency (`3/20`), most frequent first;
- tests that failed in every run that ran them;
- runs that exited non-zero with no failing test in their report (a failing session check,
  such as the fuzz summary's, or a crash).

Exit status: 0 when no test failed in any run and every run exited 0 or 5 (nothing
collected); 1 otherwise; 2 on a usage error.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

MAX_RUNS = 100
DEFAULT_ARGS = ["contracts", "specs"]
USAGE = (
    f"usage: scripts/repeat N [pytest args]  (N a whole number of runs, 1..{MAX_RUNS}; default args: contracts specs)"
)
FAILED, PASSED, SKIPPED = "failed", "passed", "skipped"


def outcomes(report: Path) -> dict[str, str]:
    """Each test of one JUnit XML report (`classname::name`) and its outcome: passed, failed
    (a failure or an error, in the call or a fixture) or skipped."""
    found: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):  # noqa: S314 - pytest's own report
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            found[name] = FAILED  # a teardown error after a pass is a second <testcase>: keep the failure
        elif found.get(name) != FAILED:
            found[name] = SKIPPED if case.find("skipped") is not None else PASSED
    return found


@dataclass
class Tally:
    runs: int = 0
    ran: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    #: (run number, exit status) of runs that exited non-zero with no failing test reported.
    silent_failures: list[tuple[int, int]] = field(default_factory=list)

    def add(self, run: int, results: dict[str, str] | None, exit_status: int) -> None:
        self.runs += 1
        results = results or {}
        for name, outcome in results.items():
            if outcome == SKIPPED:
                continue
            self.ran[name] += 1
            if outcome == FAILED:
                self.failed[name] += 1
        if exit_status not in (0, 5) and not any(o == FAILED for o in results.values()):
            self.silent_failures.append((run, exit_status))

    def flaky(self) -> list[tuple[str, int, int]]:
        """(test, runs it failed, runs that ran it), for tests that failed in some runs but not all."""
        rows = [(n, self.failed[n], self.ran[n]) for n in self.failed if self.failed[n] < self.ran[n]]
        return sorted(rows, key=lambda r: (-r[1] / r[2], r[0]))

    def always_failing(self) -> list[tuple[str, int, int]]:
        return sorted((n, self.failed[n], self.ran[n]) for n in self.failed if self.failed[n] == self.ran[n])

    @property
    def ok(self) -> bool:
        return not self.failed and not self.silent_failures

    def report(self) -> list[str]:
        flaky, always = self.flaky(), self.always_failing()
        lines = [f"repeat: {self.runs} run(s), {len(self.ran)} test(s) ran"]
        lines.append(f"repeat: {len(flaky)} flaky test(s) (failed in some runs, not all)")
        lines += [f"  {failed}/{ran}  {name}" for name, failed, ran in flaky]
        lines.append(f"repeat: {len(always)} test(s) failed in every run that ran them")
        lines += [f"  {failed}/{ran}  {name}" for name, failed, ran in always]
        for run, status in self.silent_failures:
            lines.append(
                f"repeat: run {run} exited {status} with no failing test in its report "
                "(a session-level check failed, or pytest crashed: see its output above)"
            )
        return lines


def parse_args(argv: list[str]) -> tuple[int, list[str]]:
    if not argv:
        raise ValueError(USAGE)
    try:
        runs = int(argv[0])
    except ValueError:
        raise ValueError(f"the number of runs must be a whole number, got {argv[0]!r}. {USAGE}") from None
    if not 1 <= runs <= MAX_RUNS:
        raise ValueError(f"the number of runs must be 1..{MAX_RUNS}, got {runs}. {USAGE}")
    return runs, argv[1:] or list(DEFAULT_ARGS)


def main(argv: list[str]) -> int:
    try:
        runs, args = parse_args(argv)
    except ValueError as error:
        print(f"repeat: {error}", file=sys.stderr)
        return 2
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="repeat-") as folder:
        for run in range(1, runs + 1):
            report = Path(folder) / f"run-{run}.xml"
            print(f"repeat: run {run}/{runs}: pytest {' '.join(args)}", flush=True)
            done = subprocess.run([sys.executable, "-m", "pytest", *args, f"--junitxml={report}"], check=False)
            results = outcomes(report) if report.exists() else None
            tally.add(run, results, done.returncode)
    for line in tally.report():
        print(line)
    return 0 if tally.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
