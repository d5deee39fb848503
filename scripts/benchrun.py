"""What the suite benchmarks share: one bounded pytest run, timed, against the embedded app.

The benchmarks print figures and assert nothing (speed targets are never asserted in tests).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from safety.variables import HARNESS_ENV

ROOT = Path(__file__).resolve().parents[1]
# Variables that would point the suite somewhere other than its own embedded app, or change what it may do.
TARGET_VARS = HARNESS_ENV
SUMMARY = re.compile(r"\b(passed|failed|error|errors|skipped|deselected|no tests ran)\b.* in [\d.]+s")


@dataclass
class Run:
    workers: int | None  # None: no -n, whatever the root conftest.py chooses
    repetition: int
    seconds: float
    exit_code: int | None  # None: killed on timeout
    output: str
    # node id -> (seconds, outcome), where the benchmark reads a junit report
    tests: dict[str, tuple[float, str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def label(self) -> str:
        shown = "default workers" if self.workers is None else f"-n {self.workers}"
        return f"{shown} (repetition {self.repetition})"

    @property
    def ran(self) -> int:
        return sum(outcome != "skipped" for _, outcome in self.tests.values())

    @property
    def summary(self) -> str:
        if self.exit_code is None:
            return "killed on timeout"
        lines = [line.strip("= ").strip() for line in self.output.splitlines() if line.strip()]
        return next((line for line in reversed(lines) if SUMMARY.search(line)), lines[-1] if lines else "(no output)")


def bench_env(drop_prefixes: tuple[str, ...] = ("PYTEST_",)) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes) and k not in TARGET_VARS}
    env["PYTHONPATH"] = str(ROOT)
    # As scripts/suite runs it: with the bytecode cache (see scripts/bootstrap.sh).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_pytest(args: list[str], workers: int | None, repetition: int, timeout: float, env: dict[str, str]) -> Run:
    """`pytest ARGS -p xdist -n WORKERS` (no -n for None), killed with its process group past `timeout` seconds."""
    chosen = [] if workers is None else ["-p", "xdist", "-n", str(workers)]
    command = [sys.executable, "-m", "pytest", *args, *chosen]
    started = time.monotonic()
    # Its own process group, so a timeout (or Ctrl-C here) takes the workers and browsers down with it.
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
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
    return Run(workers, repetition, time.monotonic() - started, exit_code, out.decode(errors="replace"))


def split_extra(argv: list[str] | None) -> tuple[list[str], list[str]]:
    """(the benchmark's own arguments, pytest's): pytest's follow a `--`."""
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


def verdict(met: bool) -> str:
    return "MET" if met else "MISSED"


def machine_line() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"machine: {os.cpu_count()} cores, load average {load} (other work on the machine makes the figures noisy)"


def report_failures(runs: list[Run], timeout: float) -> int:
    """Show the end of each failed run's output on stderr; the exit status: 1 if any failed."""
    failures = [r for r in runs if not r.ok]
    for run in failures:
        how = f"timed out after {timeout:g} s" if run.exit_code is None else f"exited {run.exit_code}"
        print(f"\npytest {run.label} {how}; its output ends with:", file=sys.stderr)
        print("\n".join(run.output.splitlines()[-30:]) or "(no output)", file=sys.stderr)
    if failures:
        print(f"\nfailed pytest runs: {', '.join(r.label for r in failures)}", file=sys.stderr)
        return 1
    return 0
