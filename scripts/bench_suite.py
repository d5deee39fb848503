"""Benchmark the default run of the whole suite: does it overlap its waits?

    .tools/bin/uv run python scripts/bench_suite.py [--repeat 1] [--timeout 900] [--default-only] [--serial]
        [-- PYTEST_ARGS]

Runs `pytest` at the repository root (contracts/ and specs/, the embedded reference app; the
target variables are removed from the environment) as a newcomer types it, with whatever the
root conftest.py chooses (a worker per waiting test plus one, testkit/overlap.py's scheduler),
and, beside it, the previous default: `-n 2 --dist worksteal` (two workers, plain work
stealing, the waiting tests first). `--default-only` runs just the default; `--serial` adds a
`-n 0` run. Each run writes a JUnit report; the forced wait is the
slowest test's time there (the Retry-After test). The floor is that wait plus start-up (one
`pytest --collect-only` and one embedded app start). Prints the figures beside the goal (the
default run within 10 % of the floor) as MET / MISSED; it asserts nothing, and exits non-zero
only when a pytest run itself failed (or timed out), naming which.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from benchrun import Run, bench_env, machine_line, report_failures, run_pytest, split_extra, verdict  # noqa: E402

GOAL_OVER_FLOOR = 1.10


def _slowest(junit: Path) -> tuple[str, float]:
    if not junit.exists():
        return "", 0.0
    cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 (written by the run just made)
    timed = [(f"{c.get('classname')}::{c.get('name')}", float(c.get("time") or 0.0)) for c in cases]
    return max(timed, key=lambda pair: pair[1], default=("", 0.0))


def _startup_seconds(timeout: float) -> float:
    started = time.monotonic()
    run_pytest(["--collect-only", "-q"], 0, 0, timeout, bench_env())
    collect = time.monotonic() - started
    app = EmbeddedApp()
    started = time.monotonic()
    try:
        app.start()
    finally:
        app.stop()
    return collect + (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pytest runs per mode (median reported)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a pytest run is killed")
    parser.add_argument("--default-only", action="store_true", help="time only the default run")
    parser.add_argument("--serial", action="store_true", help="also time a -n 0 run")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat {args.repeat}: must be a positive integer")
    if args.timeout <= 0:
        parser.error(f"--timeout {args.timeout:g}: must be positive")

    print(machine_line())
    modes: list[tuple[str, list[str], int | None, dict[str, str]]] = [
        ("default (`pytest`)", [], None, {}),
    ]
    if not args.default_only:
        modes.append(("previous default (-n 2 --dist worksteal)", ["--dist", "worksteal"], 2, {}))
    if args.serial:
        modes.append(("-n 0", [], 0, {}))
    walls: dict[str, list[float]] = {name: [] for name, *_ in modes}
    waits: list[float] = []
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as reports:
        for repetition in range(1, args.repeat + 1):
            for name, mode_args, workers, env_extra in modes:  # alternated, so load changes hit all alike
                junit = Path(reports) / f"junit-{len(runs)}.xml"
                env = {**bench_env(), **env_extra}
                run = run_pytest(
                    ["-q", "-p", "no:randomly", f"--junitxml={junit}", *mode_args, *extra],
                    workers,
                    repetition,
                    args.timeout,
                    env,
                )
                runs.append(run)
                slow_name, slow_seconds = _slowest(junit)
                if workers is None:
                    waits.append(slow_seconds)
                walls[name].append(run.seconds)
                status = "ok" if run.ok else ("TIMED OUT" if run.exit_code is None else f"FAILED, exit {run.exit_code}")
                print(
                    f"  {name}: {run.seconds:.1f} s wall, {status} ({run.summary}); "
                    f"slowest test {slow_seconds:.1f} s ({slow_name})",
                    flush=True,
                )
        startup = _startup_seconds(args.timeout)

    wait = statistics.median(waits) if waits else 0.0
    floor = wait + startup
    print(f"\nthe whole suite, wall time (median of {args.repeat})")
    for name, seconds in walls.items():
        print(f"  {name}: {statistics.median(seconds):.1f} s")
    print(
        f"  floor: the forced wait {wait:.1f} s + start-up {startup:.1f} s "
        f"(collection and one app start) = {floor:.1f} s"
    )
    default = statistics.median(walls[modes[0][0]])
    print("\ngoals")
    if all(r.ok for r in runs if r.workers is None) and floor > 0:
        limit = GOAL_OVER_FLOOR * floor
        judged = verdict(default <= limit)
        print(f"  default run within {GOAL_OVER_FLOOR - 1:.0%} of the floor ({limit:.1f} s): {default:.1f} s, {judged}")
    else:
        print("  default run within 10 % of the floor: not judged (a default run failed)")
    return report_failures(runs, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
