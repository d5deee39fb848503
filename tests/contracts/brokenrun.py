"""Run part of the suite against one reference-app build, for the broken-build proofs.

Used by tests/contracts/test_broken_builds.py and tests/specs/test_broken_ui_builds.py: start the
reference app (healthy, or with one REFAPP_BROKEN fault) on loopback, run the given node ids in a
pytest subprocess against it, and read the failures back from its junit report.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from refapp.broken import FAULTS
from safety.embedded import EmbeddedApp
from safety.variables import HARNESS_ENV

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 420

# The outer run's own configuration must not steer the inner run.
SCRUBBED_ENV = (
    *HARNESS_ENV,
    "PYTEST_ADDOPTS",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
    "PYTEST_CURRENT_TEST",
    "REFAPP_BROKEN",
    "REFAPP_ALLOW_BROKEN",
    "REFAPP_READINGS",
)


@dataclass(frozen=True)
class InnerRun:
    code: int
    failed: tuple[str, ...]  # node ids "path/to/test_x.py::test_name[param]"
    passed: int
    output: str

    def caught_by(self, owners: Sequence[str]) -> bool:
        """Whether some failing test is one of `owners` (a node id, or one without its [param])."""
        return any(got == want or got.startswith(want + "[") for want in owners for got in self.failed)


@contextmanager
def running(build: str | None) -> Iterator[EmbeddedApp]:
    """The reference app on loopback: healthy when `build` is None, else that broken build."""
    if build is not None and build not in FAULTS:
        raise ValueError(f"unknown broken build {build!r}; see refapp/faults/")
    extra = {} if build is None else {"REFAPP_BROKEN": build, "REFAPP_ALLOW_BROKEN": "1"}
    app = EmbeddedApp(extra_env=extra)
    try:
        app.start()
        yield app
    finally:
        app.stop()


def run_suite(app: EmbeddedApp, args: Sequence[str], tmp_path: Path) -> InnerRun:
    """Run `pytest <args>` against `app` in one process (-n 0), without cache or random order."""
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["E2E_CRON_SECRET"] = app.cron_secret
    command = [
        sys.executable, "-m", "pytest", *args,
        "--base-url", app.url,
        "-p", "no:randomly", "-p", "xdist", "-n", "0",
        "-q", "-rfE", "--tb=line", f"--junitxml={report}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    output = done.stdout[-6000:] + done.stderr[-2000:]
    assert report.exists(), f"the inner run wrote no report (exit {done.returncode}):\n{output}"
    failed: list[str] = []
    passed = 0
    for case in ET.parse(report).iter("testcase"):  # noqa: S314 - our own run's report
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(_node_id(case))
        elif case.find("skipped") is None:
            passed += 1
    return InnerRun(done.returncode, tuple(failed), passed, output)


def _node_id(case: ET.Element) -> str:
    # junit's classname is "contracts.test_x" (or "specs.test_x"); the name keeps its [param].
    path = case.get("classname", "").replace(".", "/")
    return f"{path}.py::{case.get('name')}"


def owner_files(owners: Sequence[str]) -> list[str]:
    """The node ids to select for `owners` (pytest accepts a function's id for all its params)."""
    return list(dict.fromkeys(owners))
