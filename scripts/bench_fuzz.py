"""Benchmark the contract fuzz suite: cases per second, and the same budget under `st run`.

    .tools/bin/uv run python scripts/bench_fuzz.py [--examples 25] [--seed 1] [--skip-st]

Starts one embedded reference app per run (a fresh database each, loopback only), then

1. our pytest path: `pytest contracts/test_fuzz_*.py` with E2E_FUZZ_EXAMPLES / E2E_FUZZ_SEED;
2. `st run contracts/openapi.yaml` with the same examples, seed, checks and users
   (`SCHEMATHESIS_HOOKS=contracts.fuzz.hooks`), writing VCR and HAR cassettes.

Requests are counted from each app's access log (every request the app answered, the
fixtures and login calls of the user rotation included), so both runs are measured alike.
Prints the figures against the goals (>= 300 cases in <= 30 s; our wall time <= 1.2x
`st run`'s); it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from safety.embedded import EmbeddedApp  # noqa: E402

OPENAPI = ROOT / "contracts" / "openapi.yaml"
FUZZ_TESTS = [
    "contracts/test_fuzz_execute.py",
    "contracts/test_fuzz_routes.py",
    "contracts/test_fuzz_stateful.py",
]
EXCLUDED_CHECKS = "unsupported_method,allow_header_conformance,use_after_free,object_level_authorization"


@dataclass
class Run:
    name: str
    seconds: float
    requests: int
    exit_code: int
    cases: int | None = None
    note: str = ""

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _count_requests(app: EmbeddedApp) -> int:
    try:
        return sum(1 for _ in app.access_log.open())
    except FileNotFoundError:
        return 0


def _env(app: EmbeddedApp, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_FUZZ_"))}
    env.update({"E2E_CRON_SECRET": app.cron_secret, "PYTHONPATH": str(ROOT), **extra})
    return env


def run_pytest(examples: int, seed: int, artifacts: Path, workers: int) -> Run:
    app = EmbeddedApp()
    url = app.start()
    try:
        env = _env(
            app,
            {
                "E2E_FUZZ_EXAMPLES": str(examples),
                "E2E_FUZZ_SEED": str(seed),
                "E2E_FUZZ_ARTIFACTS": str(artifacts),
            },
        )
        before = _count_requests(app)
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                *FUZZ_TESTS,
                "-q",
                "--base-url",
                url,
                *(["-n", str(workers)] if workers > 1 else ["-p", "no:xdist"]),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        requests = _count_requests(app) - before
    finally:
        app.stop()
    summaries = list(artifacts.glob("summary*.json"))
    cases = sum(json.loads(p.read_text())["requests"] for p in summaries) if summaries else None
    tail = (result.stdout.strip().splitlines() or [""])[-1]
    return Run("pytest contracts/test_fuzz_*.py", seconds, requests, result.returncode, cases, tail)


def _st_config(reports: Path) -> Path:
    """The pytest path's check settings as a schemathesis.toml (see contracts.fuzz.schema)."""
    from contracts.fuzz.schema import POSITIVE_STATUSES

    statuses = ", ".join(f'"{s}"' for s in POSITIVE_STATUSES)
    path = reports / "schemathesis.toml"
    path.write_text(
        # No .schemathesis/ cache directory in the work tree.
        f"[cache]\nenabled = false\n\n[checks.positive_data_acceptance]\nexpected-statuses = [{statuses}]\n"
    )
    return path


def run_st(examples: int, seed: int, reports: Path) -> Run:
    reports.mkdir(parents=True, exist_ok=True)
    app = EmbeddedApp()
    url = app.start()
    try:
        env = _env(app, {"SCHEMATHESIS_HOOKS": "contracts.fuzz.hooks", "E2E_FUZZ_TARGET": url})
        st = Path(sys.executable).with_name("st")
        command = [
            str(st),
            "--config-file",
            str(_st_config(reports)),
            "run",
            str(OPENAPI),
            "--url",
            url,
            "--max-examples",
            str(examples),
            "--seed",
            str(seed),
            "--exclude-checks",
            EXCLUDED_CHECKS,
            "--generation-with-security-parameters",
            "false",
            "--generation-database",
            "none",
            "--report",
            "vcr,har",
            "--report-dir",
            str(reports),
            "--no-color",
            "--workers",
            "1",
        ]
        before = _count_requests(app)
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        requests = _count_requests(app) - before
    finally:
        app.stop()
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    note = next(
        (line.strip() for line in reversed(lines) if "passed" in line or "failed" in line),
        lines[-1].strip() if lines else result.stderr.strip()[-200:],
    )
    return Run("st run contracts/openapi.yaml", seconds, requests, result.returncode, None, note)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=25, help="examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-st", action="store_true", help="only time the pytest path")
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers for the pytest path (-n)")
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=ROOT / "artifacts" / "fuzz" / "bench",
        help="where summaries and st's cassettes go",
    )
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error(f"--examples {args.examples}: must be a positive integer")
    args.artifacts.mkdir(parents=True, exist_ok=True)

    runs = [run_pytest(args.examples, args.seed, Path(tempfile.mkdtemp(dir=args.artifacts)), args.workers)]
    if not args.skip_st:
        runs.append(run_st(args.examples, args.seed, args.artifacts / "st"))

    print(f"budget: {args.examples} examples per operation, seed {args.seed}")
    for run in runs:
        cases = f", {run.cases} cases sent by the suite" if run.cases is not None else ""
        print(
            f"{run.name}: {run.seconds:.1f} s wall, {run.requests} requests answered"
            f"{cases}, {run.per_second:.1f} requests/s, exit {run.exit_code} ({run.note})"
        )
    ours = runs[0]
    goal = "met" if ours.requests >= 300 and ours.seconds <= 30 else "NOT met"
    print(f"goal >= 300 cases in <= 30 s: {goal} ({ours.requests} in {ours.seconds:.1f} s)")
    if len(runs) > 1 and runs[1].seconds:
        ratio = ours.seconds / runs[1].seconds
        verdict = "met" if ratio <= 1.2 else "NOT met"
        print(f"goal pytest wall <= 1.2x st run: {verdict} ({ratio:.2f}x)")
        print(f"st run cassettes: {args.artifacts / 'st'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
