"""Benchmark the browser specs: wall time at -n 0 and -n 2, each spec's time, and the amortised time per spec.

    .tools/bin/uv run python scripts/bench_specs.py [--repeat 1] [--timeout 900] [-- PYTEST_ARGS]

Runs `pytest specs -q` against the embedded reference app (the target variables are removed
from the environment, so the safety plugin starts its own app on loopback) once with `-n 0`
and once with `-n 2` per repetition, each writing a JUnit XML report into a temporary
directory; each test's time (setup + call + teardown, as the report counts it) comes from
there. Arguments after `--` go to every pytest run. Each run is bounded by --timeout; its
process group is killed on expiry. Prints a table of the specs, slowest first, and the
amortised time (wall / specs that ran) beside the goal (at most 1.5 s per spec) as
MET / MISSED; it asserts nothing, and exits non-zero only when a pytest run itself failed
(or timed out), naming which.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from benchrun import Run, bench_env, machine_line, report_failures, run_pytest, split_extra, verdict  # noqa: E402

GOAL_PER_SPEC_SECONDS = 1.5
WORKERS = (0, 2)


def _read_junit(path: Path) -> dict[str, tuple[float, str]]:
    if not path.exists():
        return {}
    tests: dict[str, tuple[float, str]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):  # noqa: S314 (written by the run just made)
        # classname "specs.test_login" -> specs/test_login.py; "specs.test_x.TestY" -> specs/test_x.py::TestY.
        parts = case.get("classname", "?").split(".")
        cut = next((i for i, part in enumerate(parts) if part[:1].isupper()), len(parts))
        name = "::".join(["/".join(parts[:cut]) + ".py", *parts[cut:]])
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = "failed" if child.tag == "failure" else child.tag
        tests[f"{name}::{case.get('name', '?')}"] = (float(case.get("time") or 0.0), outcome)
    return tests


def run_specs(workers: int, repetition: int, extra: list[str], timeout: float, reports: Path) -> Run:
    junit = reports / f"junit-n{workers}-r{repetition}.xml"
    args = ["specs", "-q", f"--junitxml={junit}", "-o", "junit_duration_report=total", *extra]
    run = run_pytest(args, workers, repetition, timeout, bench_env())
    run.tests = _read_junit(junit)
    return run


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pytest runs per worker count (median reported)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a pytest run is killed")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: must be a positive integer")
    if args.timeout <= 0:
        parser.error(f"--timeout {args.timeout:g}: must be positive")

    print(machine_line())
    extras = f" {' '.join(extra)}" if extra else ""
    print(f"command: pytest specs -q -p xdist -n N --junitxml=...{extras} (embedded target)")

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-specs-") as reports:
        for repetition in range(1, args.repeat + 1):
            for workers in WORKERS:  # alternated, so load changes on the machine hit both alike
                run = run_specs(workers, repetition, extra, args.timeout, Path(reports))
                runs.append(run)
                status = "ok" if run.ok else ("TIMED OUT" if run.exit_code is None else f"FAILED, exit {run.exit_code}")
                print(f"  {run.label}: {run.seconds:.1f} s wall, {status} ({run.summary})", flush=True)

    by_workers = {w: [r for r in runs if r.workers == w] for w in WORKERS}
    names = sorted({name for r in runs for name in r.tests})

    def median_time(workers: int, name: str) -> float | None:
        times = [r.tests[name][0] for r in by_workers[workers] if name in r.tests]
        return statistics.median(times) if times else None

    def outcomes(name: str) -> str:
        seen = sorted({r.tests[name][1] for r in runs if name in r.tests})
        return "/".join(seen)

    if names:
        print(f"\nper spec, seconds (setup + call + teardown, median of {args.repeat}), slowest at -n 0 first")
        width = max(len(n) for n in names)
        print(f"  {'spec':<{width}}  {'-n 0':>6}  {'-n 2':>6}  outcome")
        rows = sorted(names, key=lambda n: -(median_time(0, n) or median_time(2, n) or 0.0))
        for name in rows:
            cells = [median_time(w, name) for w in WORKERS]
            shown = [f"{c:6.2f}" if c is not None else f"{'-':>6}" for c in cells]
            print(f"  {name:<{width}}  {shown[0]}  {shown[1]}  {outcomes(name)}")
        for workers in WORKERS:
            sums = [sum(t for t, _ in r.tests.values()) for r in by_workers[workers] if r.tests]
            if sums:
                print(f"  sum of per-spec times at -n {workers}: {statistics.median(sums):.1f} s")
    else:
        print("\nno per-spec times: no JUnit report was written")

    print(f"\npytest specs, wall time (median of {args.repeat})")
    walls: dict[int, float] = {}
    per_spec: dict[int, float | None] = {}
    for workers in WORKERS:
        mine = by_workers[workers]
        walls[workers] = statistics.median(r.seconds for r in mine)
        counts = [r.ran for r in mine if r.ran]
        specs = statistics.median(counts) if counts else 0
        per_spec[workers] = walls[workers] / specs if specs else None
        skipped = statistics.median(len(r.tests) - r.ran for r in mine)
        failed = sum(not r.ok for r in mine)
        note = f", {failed} of {len(mine)} runs failed" if failed else ""
        amortised = f"{per_spec[workers]:.2f} s per spec" if per_spec[workers] is not None else "no spec ran"
        print(
            f"  -n {workers}: {walls[workers]:.1f} s for {specs:g} specs that ran ({skipped:g} skipped): "
            f"{amortised}{note}"
        )
    if walls[2]:
        print(f"  speed-up at -n 2: {walls[0] / walls[2]:.2f}x")

    print("\ngoals")
    for workers in WORKERS:
        amortised_time = per_spec[workers]
        if not all(r.ok for r in by_workers[workers]) or amortised_time is None:
            print(f"  -n {workers}: at most {GOAL_PER_SPEC_SECONDS:g} s per spec amortised: not judged (a run failed)")
            continue
        judged = verdict(amortised_time <= GOAL_PER_SPEC_SECONDS)
        goal = f"at most {GOAL_PER_SPEC_SECONDS:g} s per spec amortised"
        print(f"  -n {workers}: {goal}: {judged} ({amortised_time:.2f} s)")

    return report_failures(runs, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
