"""Run the suite the way QA runs it against staging, with the reference app standing in for staging.

    uv run python scripts/staging_like.py [--runs N] [--readings default|other] [--workers 2] [--seeded 5]
        [-- pytest args]

Each run starts a new reference app on 127.0.0.1 as a staging deployment would run: no
POST /api/e2e/fixtures (REFAPP_E2E_FIXTURES unset), and one account, E2E_EMAIL / E2E_PASSWORD,
seeded with exactly REFAPP_SEED_NEXT_ACTIONS=5 (`--seeded`) queued next actions on one lead. Then it runs
`pytest contracts specs -n 2 --base-url URL` against it with E2E_SAFE_HOSTS=127.0.0.1,
E2E_EMAIL, E2E_PASSWORD and E2E_CRON_SECRET set, and prints each run's result and duration
(its output goes to artifacts/staging_like/run-<reading>-<n>.log). `--readings other` starts the app
with REFAPP_READINGS=other (a login ends the user's earlier sessions, run_next_actions
closes every queued item, ...).

Exit status: 0 when every run passed, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp  # noqa: E402 - after the path is set
from safety.variables import HARNESS_ENV  # noqa: E402

EMAIL = "qa@staging.example.test"
PASSWORD = "staging-like-password"  # noqa: S105 - a throwaway account on a throwaway app
SEEDED = 5
MAX_SEEDED = 50
MAX_RUNS = 50
LOG_DIR = ROOT / "artifacts" / "staging_like"


def parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    own, extra = _split(argv)
    parser = argparse.ArgumentParser(prog="scripts/staging_like.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help=f"how many runs, one after another (1..{MAX_RUNS})")
    parser.add_argument("--readings", choices=("default", "other"), default="default", help="REFAPP_READINGS")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers (-n), default 2")
    parser.add_argument(
        "--seeded",
        type=int,
        default=SEEDED,
        help=f"queued next actions of the account (1..{MAX_SEEDED}), default {SEEDED}",
    )
    args = parser.parse_args(own)
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be 1..{MAX_RUNS}, not {args.runs}")
    if not 1 <= args.seeded <= MAX_SEEDED:
        parser.error(f"--seeded must be 1..{MAX_SEEDED}, not {args.seeded}")
    return args, extra


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    """The script's own options, and the pytest arguments after `--`."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def suite_env(url: str, cron_secret: str) -> dict[str, str]:
    """The environment of one suite run: nothing of the caller's harness settings, then QA's."""
    env = {k: v for k, v in os.environ.items() if k not in HARNESS_ENV}
    env.update(
        {
            "E2E_SAFE_HOSTS": "127.0.0.1",
            "E2E_EMAIL": EMAIL,
            "E2E_PASSWORD": PASSWORD,
            "E2E_CRON_SECRET": cron_secret,
        }
    )
    env.pop("REFAPP_READINGS", None)  # the suite's own runs do not start an app; keep it out anyway
    return env


def one_run(number: int, args: argparse.Namespace, extra: list[str]) -> tuple[int, float, str]:
    """(exit status, seconds, the run's last output line)."""
    app = EmbeddedApp(
        extra_env={
            "REFAPP_E2E_FIXTURES": "",  # the staging has no fixtures endpoint
            "E2E_EMAIL": EMAIL,
            "E2E_PASSWORD": PASSWORD,
            "REFAPP_SEED_NEXT_ACTIONS": str(args.seeded),
            "REFAPP_READINGS": args.readings,
        }
    )
    url = app.start()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"run-{args.readings}-{number}.log"
    command = [sys.executable, "-m", "pytest", "contracts", "specs", "-n", args.workers, "--base-url", url, *extra]
    started = time.monotonic()
    try:
        with log_path.open("wb") as log:
            status = subprocess.call(command, cwd=ROOT, env=suite_env(url, app.cron_secret), stdout=log, stderr=log)
    finally:
        app.stop()
    seconds = time.monotonic() - started
    lines = [line for line in log_path.read_text(errors="replace").splitlines() if line.strip()]
    return status, seconds, (lines[-1] if lines else "(no output)")


def main(argv: list[str] | None = None) -> int:
    args, extra = parse(sys.argv[1:] if argv is None else argv)
    print(
        f"staging-like: {args.runs} run(s) of `pytest contracts specs -n {args.workers}` against a reference app "
        f"without fixtures, one account with {args.seeded} queued items, REFAPP_READINGS={args.readings}",
        flush=True,
    )
    results: list[tuple[int, float]] = []
    for number in range(1, args.runs + 1):
        status, seconds, last = one_run(number, args, extra)
        results.append((status, seconds))
        verdict = "PASS" if status == 0 else f"FAIL (exit {status})"
        print(f"run {number}: {verdict} in {seconds:.0f} s: {last}", flush=True)
        if status != 0:
            print(f"  log: {LOG_DIR / f'run-{args.readings}-{number}.log'}", flush=True)
    passed = sum(1 for status, _ in results if status == 0)
    durations = [seconds for _, seconds in results]
    print(
        f"staging-like: {passed} of {len(results)} run(s) passed; durations {min(durations):.0f}-"
        f"{max(durations):.0f} s (mean {sum(durations) / len(durations):.0f} s)",
        flush=True,
    )
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
