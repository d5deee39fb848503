"""Run part of the suite against one reference-app build, for the broken-build proofs.

Used by tests/contracts/test_broken_builds.py and tests/specs/test_broken_ui_builds.py: start the
reference app (healthy, or with one REFAPP_BROKEN fault) on loopback, run the given node ids in a
pytest subprocess against it, and read the failures back from its junit report.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx

from refapp.broken import FAULTS
from safety.child_guard import CHILD_ENV
from safety.variables import HARNESS_ENV

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 420
START_TIMEOUT = 90.0  # a cold start on a loaded 2-core machine; costs nothing when fast

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


class App(Protocol):
    url: str
    cron_secret: str


@dataclass
class WarmApp:
    """The reference app forked by the warm server: its URL, cron secret and process."""

    url: str
    cron_secret: str
    pid: int
    log: Path


@contextmanager
def running(build: str | None) -> Iterator[App]:
    """The reference app on loopback: healthy when `build` is None, else that broken build.

    Configured as safety.embedded.EmbeddedApp configures it (own SQLite file, cron secret,
    fixtures on), but forked from the warm server, which has imported it already.
    """
    if build is not None and build not in FAULTS:
        raise ValueError(f"unknown broken build {build!r}; see refapp/faults/")
    workdir = Path(tempfile.mkdtemp(prefix="e2e-broken-"))
    env = scrubbed_env()
    for name in ("REFAPP_ENVIRONMENT", CHILD_ENV):
        env.pop(name, None)
    env.update(
        DATABASE_URL=f"sqlite:///{workdir / 'refapp.sqlite3'}",
        CRON_SECRET=secrets.token_urlsafe(24),
        REFAPP_E2E_FIXTURES="1",
    )
    if build is not None:
        env.update(REFAPP_BROKEN=build, REFAPP_ALLOW_BROKEN="1")
    app = _WARM.serve(env, workdir / "server.log")
    try:
        _wait_healthy(app)
        yield app
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(app.pid, signal.SIGKILL)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_healthy(app: WarmApp) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if client.get(f"{app.url}/api/health").status_code == 200:
                    return
            if _ended(app.pid):
                break
            time.sleep(0.05)
    tail = app.log.read_text(errors="replace")[-3000:] if app.log.exists() else ""
    raise AssertionError(f"the reference app at {app.url} did not answer /api/health. Its log ends with:\n{tail}")


def _ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def scrubbed_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}


def run_suite(app: App, args: Sequence[str], tmp_path: Path) -> InnerRun:
    """Run `pytest <args>` against `app` in one forked process (-n 0), without random order."""
    report = tmp_path / "report.xml"
    env = scrubbed_env()
    env["E2E_CRON_SECRET"] = app.cron_secret
    pytest_args = [
        *args,
        "--base-url", app.url,
        "-p", "no:randomly", "-p", "xdist", "-n", "0",
        "-q", "-rfE", "--tb=line", f"--junitxml={report}",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]  # fmt: skip
    code, output = _WARM.run(pytest_args, env, tmp_path / "output.txt")
    assert report.exists(), f"the inner run wrote no report (exit {code}):\n{output}"
    failed: list[str] = []
    passed = 0
    for case in ET.parse(report).iter("testcase"):  # noqa: S314 - our own run's report
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(_node_id(case))
        elif case.find("skipped") is None:
            passed += 1
    return InnerRun(code, tuple(failed), passed, output)


class WarmPytest:
    """One `tests.contracts.warmpytest` server per process of the outer run, started on first use."""

    def __init__(self) -> None:
        self._server: subprocess.Popen[str] | None = None

    def run(self, args: Sequence[str], env: dict[str, str], out: Path) -> tuple[int, str]:
        """Run `pytest <args>` in a forked child; return (exit status, the tail of its output)."""
        server = self._start()
        assert server.stdin is not None and server.stdout is not None
        request = {"args": list(args), "env": env, "cwd": str(ROOT), "out": str(out)}
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        ready, _, _ = select.select([server.stdout], [], [], RUN_TIMEOUT)
        if not ready:
            self.close()
            raise AssertionError(f"the inner pytest run did not end within {RUN_TIMEOUT} s: pytest {' '.join(args)}")
        line = server.stdout.readline()
        if not line:
            self.close()
            raise AssertionError("the warm pytest server died; see its output above")
        text = out.read_text(errors="replace") if out.exists() else ""
        return int(json.loads(line)["code"]), text[-8000:]

    def serve(self, env: dict[str, str], log: Path) -> WarmApp:
        """Fork the reference app with `env`, its output to `log`; it answers once it is healthy."""
        server = self._start()
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps({"serve": env, "out": str(log)}) + "\n")
        server.stdin.flush()
        line = server.stdout.readline()
        if not line:
            self.close()
            raise AssertionError("the warm pytest server died; see its output above")
        answer = json.loads(line)
        return WarmApp(f"http://127.0.0.1:{answer['port']}", env["CRON_SECRET"], int(answer["pid"]), log)

    def _start(self) -> subprocess.Popen[str]:
        if self._server is None or self._server.poll() is not None:
            self._server = subprocess.Popen(
                [sys.executable, "-m", "tests.contracts.warmpytest"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={k: v for k, v in scrubbed_env().items() if k != CHILD_ENV},
            )
            atexit.register(self.close)
        return self._server

    def close(self) -> None:
        if self._server is not None and self._server.poll() is None:
            self._server.kill()
            self._server.wait()
        self._server = None


#: The one warm server of this process (started on first use).
_WARM = WarmPytest()


def _node_id(case: ET.Element) -> str:
    # junit's classname is "contracts.test_x" (or "specs.test_x"); the name keeps its [param].
    path = case.get("classname", "").replace(".", "/")
    return f"{path}.py::{case.get('name')}"
