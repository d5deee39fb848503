"""Benchmark the contract suite: wall time at -n 0 and -n 2, the speed-up, and the reference app's start time.

    .tools/bin/uv run python scripts/bench_contracts.py [--repeat 1] [--starts 5] [--timeout 900] [-- PYTEST_ARGS]

Runs `pytest contracts -m "not slow" -q` against the embedded reference app (the target
variables are removed from the environment, so the safety plugin starts its own app on
loopback) once with `-n 0` and once with `-n 2` per repetition, and times
`safety.embedded.EmbeddedApp.start()` until /api/health answers. Arguments after `--` go to
every pytest run. Each run is bounded by --timeout; its process group is killed on expiry.
Prints the figures beside the goals (at most 15 s at -n 0 on a 2-core machine; a speed-up of
at least 1.6 at -n 2) as MET / MISSED; it asserts nothing, and exits non-zero only when a
pytest run itself failed (or timed out), naming which.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp, EmbeddedAppError  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
from benchrun import Run, bench_env, machine_line, report_failures, run_pytest, split_extra, verdict  # noqa: E402

GOAL_SERIAL_SECONDS = 15.0
GOAL_SPEEDUP = 1.6
GOAL_CORES = 2
WORKERS = (0, 2)


def time_app_start(starts: int) -> tuple[list[float], str]:
    """Seconds from start() to a healthy app, per start; and the error that stopped the series, if any."""
    times: list[float] = []
    for _ in range(starts):
        app = EmbeddedApp()
        started = time.monotonic()
        try:
            app.start()
            times.append(time.monotonic() - started)
        except EmbeddedAppError as error:
            return times, str(error)
        finally:
            app.stop()
    return times, ""


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_extra(argv)
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="pytest runs per worker count (median reported)")
    parser.add_argument("--starts", type=int, default=5, help="embedded app starts to time (median reported)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before a pytest run is killed")
    args = parser.parse_args(argv)
    for name in ("repeat", "starts"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)}: must be a positive integer")
    if args.timeout <= 0:
        parser.error(f"--timeout {args.timeout:g}: must be positive")

    cores = os.cpu_count() or 0
    print(machine_line())
    extras = f" {' '.join(extra)}" if extra else ""
    print(f'command: pytest contracts -m "not slow" -q -p xdist -n N{extras} (embedded target)')

    start_times, start_error = time_app_start(args.starts)
    runs: list[Run] = []
    for repetition in range(1, args.repeat + 1):
        for workers in WORKERS:  # alternated, so load changes on the machine hit both alike
            # The fuzz budget and seed variables are dropped too: the default budget, a fresh seed.
            env = bench_env(("PYTEST_", "E2E_FUZZ_"))
            run = run_pytest(["contracts", "-m", "not slow", "-q", *extra], workers, repetition, args.timeout, env)
            runs.append(run)
            status = "ok" if run.ok else ("TIMED OUT" if run.exit_code is None else f"FAILED, exit {run.exit_code}")
            print(f"  {run.label}: {run.seconds:.1f} s wall, {status} ({run.summary})", flush=True)

    print("\nembedded reference app, start() until /api/health answers")
    if start_times:
        print(
            f"  median {statistics.median(start_times):.2f} s over {len(start_times)} starts"
            f" (min {min(start_times):.2f} s, max {max(start_times):.2f} s)"
        )
    if start_error:
        print(f"  a start failed (not a pytest run; the exit code ignores it): {start_error}")

    walls: dict[int, float] = {}
    print(f'\npytest contracts -m "not slow", wall time (median of {args.repeat})')
    for workers in WORKERS:
        mine = [r for r in runs if r.workers == workers]
        walls[workers] = statistics.median(r.seconds for r in mine)
        failed = sum(not r.ok for r in mine)
        note = f"  ({failed} of {len(mine)} runs failed)" if failed else ""
        print(f"  -n {workers}: {walls[workers]:.1f} s{note}")
    speedup = walls[0] / walls[2] if walls[2] else 0.0
    print(f"  speed-up at -n 2: {speedup:.2f}x")

    all_ok = {w: all(r.ok for r in runs if r.workers == w) for w in WORKERS}
    print("\ngoals")
    core_note = "" if cores == GOAL_CORES else f"; the goal is for {GOAL_CORES} cores, this machine has {cores}"
    if all_ok[0]:
        serial = verdict(walls[0] <= GOAL_SERIAL_SECONDS)
        print(f"  -n 0 at most {GOAL_SERIAL_SECONDS:g} s: {serial} ({walls[0]:.1f} s{core_note})")
    else:
        print(f"  -n 0 at most {GOAL_SERIAL_SECONDS:g} s: not judged (a run failed)")
    if all_ok[0] and all_ok[2]:
        print(f"  speed-up at least {GOAL_SPEEDUP:g} at -n 2: {verdict(speedup >= GOAL_SPEEDUP)} ({speedup:.2f}x)")
    else:
        print(f"  speed-up at least {GOAL_SPEEDUP:g} at -n 2: not judged (a run failed)")

    return report_failures(runs, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
