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
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp, EmbeddedAppError  # noqa: E402

GOAL_SERIAL_SECONDS = 15.0
GOAL_SPEEDUP = 1.6
GOAL_CORES = 2
WORKERS = (0, 2)
# Variables that would point the suite somewhere other than its own embedded app.
TARGET_VARS = ("E2E_BASE_URL", "PLAYWRIGHT_BASE_URL", "PYTEST_BASE_URL", "E2E_CRON_SECRET")
SUMMARY = re.compile(r"\b(passed|failed|error|errors|skipped|deselected|no tests ran)\b.* in [\d.]+s")


@dataclass
class Run:
    workers: int
    repetition: int
    seconds: float
    exit_code: int | None  # None: killed on timeout
    output: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def label(self) -> str:
        return f"-n {self.workers} (repetition {self.repetition})"

    @property
    def summary(self) -> str:
        if self.exit_code is None:
            return "killed on timeout"
        lines = [line.strip("= ").strip() for line in self.output.splitlines() if line.strip()]
        return next((line for line in reversed(lines) if SUMMARY.search(line)), lines[-1] if lines else "(no output)")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_FUZZ_")) and k not in TARGET_VARS}
    env["PYTHONPATH"] = str(ROOT)
    # As scripts/suite runs it: with the bytecode cache (see scripts/bootstrap.sh).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_pytest(workers: int, repetition: int, extra: list[str], timeout: float) -> Run:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contracts",
        "-m",
        "not slow",
        "-q",
        "-p",
        "xdist",
        "-n",
        str(workers),
        *extra,
    ]
    started = time.monotonic()
    # Its own process group, so a timeout (or Ctrl-C here) takes the workers down with it.
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    exit_code: int | None
    try:
        out, _ = process.communicate(timeout=timeout)
        exit_code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, _ = process.communicate()
        exit_code = None
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    seconds = time.monotonic() - started
    return Run(workers, repetition, seconds, exit_code, out.decode(errors="replace"))


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


def _verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
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
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {cores} cores, load average {load} (other work on the machine makes the figures noisy)")
    extras = f" {' '.join(extra)}" if extra else ""
    print(f'command: pytest contracts -m "not slow" -q -p xdist -n N{extras} (embedded target)')

    start_times, start_error = time_app_start(args.starts)
    runs: list[Run] = []
    for repetition in range(1, args.repeat + 1):
        for workers in WORKERS:  # alternated, so load changes on the machine hit both alike
            run = run_pytest(workers, repetition, extra, args.timeout)
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
        verdict = _verdict(walls[0] <= GOAL_SERIAL_SECONDS)
        print(f"  -n 0 at most {GOAL_SERIAL_SECONDS:g} s: {verdict} ({walls[0]:.1f} s{core_note})")
    else:
        print(f"  -n 0 at most {GOAL_SERIAL_SECONDS:g} s: not judged (a run failed)")
    if all_ok[0] and all_ok[2]:
        print(f"  speed-up at least {GOAL_SPEEDUP:g} at -n 2: {_verdict(speedup >= GOAL_SPEEDUP)} ({speedup:.2f}x)")
    else:
        print(f"  speed-up at least {GOAL_SPEEDUP:g} at -n 2: not judged (a run failed)")

    failures = [r for r in runs if not r.ok]
    for run in failures:
        how = f"timed out after {args.timeout:g} s" if run.exit_code is None else f"exited {run.exit_code}"
        print(f"\npytest {run.label} {how}; its output ends with:", file=sys.stderr)
        print("\n".join(run.output.splitlines()[-30:]) or "(no output)", file=sys.stderr)
    if failures:
        print(f"\nfailed pytest runs: {', '.join(r.label for r in failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
