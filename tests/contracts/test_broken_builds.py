"""The contract suite bites: each deliberately broken reference-app build fails the test owning its rule.

For every REFAPP_BROKEN name, start the reference app with that switch on a loopback port, run the
whole non-slow hand-written contract suite against it in a subprocess, and assert that the run fails
and that the failing tests include the one owning the broken rule. A control run against the
healthy build must pass, so a failure is the rule's, not the suite's.

`long_idempotency_key_500` is left out on purpose: it is the fuzzer's to find.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from safety.embedded import EmbeddedApp
from safety.variables import HARNESS_ENV

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 300

# Broken build -> the test(s) that own the rule it breaks (node id substrings; any one must fail).
EXPECTED_FAILURES: dict[str, tuple[str, ...]] = {
    "no_retry_after": ("test_execute_ratelimit.py::test_21st_request_is_rate_limited_with_retry_after",),
    "validate_before_auth": ("test_execute.py::test_auth_is_checked_before_the_body",),
    "list_snoozed": ("test_next_actions.py::test_snoozed_item_is_hidden_from_queued_but_readable",),
    "leak_secret": ("test_execute.py::test_failing_action_answers_500_and_records_the_failure",),
    "replay_executes": ("test_idempotency.py::test_replay_answers_the_same_and_runs_nothing",),
    "other_user_403": ("test_auth.py::test_another_users_id_is_404_like_an_unknown_id",),
    "xff_budget": ("test_execute_ratelimit.py::test_forwarded_headers_do_not_change_whose_budget",),
    "bad_body_500": ("test_execute.py::test_bad_body_is_invalid_body",),
}

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
)


@pytest.fixture
def app(request: pytest.FixtureRequest) -> Iterator[EmbeddedApp]:
    name: str | None = request.param
    extra = {} if name is None else {"REFAPP_BROKEN": name, "REFAPP_ALLOW_BROKEN": "1"}
    embedded = EmbeddedApp(extra_env=extra)
    try:
        embedded.start()
        yield embedded
    finally:
        embedded.stop()


def _run_suite(app: EmbeddedApp, tmp_path: Path) -> tuple[int, list[str], str]:
    """Run the non-slow hand-written contract suite against `app`; return (exit code, failed ids, output)."""
    report = tmp_path / "report.xml"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env["E2E_CRON_SECRET"] = app.cron_secret
    command = [
        sys.executable, "-m", "pytest", "contracts",
        "-m", "not slow",
        "--base-url", app.url,
        "-p", "no:randomly",
        "-p", "xdist", "-n", "0",
        "--ignore=contracts/fuzz", "--ignore-glob=contracts/test_fuzz*",
        "-q", "-rfE", "--tb=line", f"--junitxml={report}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    output = done.stdout[-6000:] + done.stderr[-2000:]
    assert report.exists(), f"the inner run wrote no report (exit {done.returncode}):\n{output}"
    failed: list[str] = []
    for case in ET.parse(report).iter("testcase"):  # noqa: S314 - our own run's report
        if case.find("failure") is not None or case.find("error") is not None:
            path = case.get("classname", "").replace(".", "/")
            failed.append(f"{path}.py::{case.get('name')}")
    return done.returncode, failed, output


@pytest.mark.parametrize("app", [None], indirect=True, ids=["healthy"])
def test_the_suite_passes_against_the_healthy_reference_app(app: EmbeddedApp, tmp_path: Path) -> None:
    code, failed, output = _run_suite(app, tmp_path)
    assert code == 0 and not failed, (
        f"the non-slow contract suite must pass against the healthy reference app; exit {code}, "
        f"failed {failed}:\n{output}"
    )


@pytest.mark.parametrize("app", list(EXPECTED_FAILURES), indirect=True, ids=list(EXPECTED_FAILURES))
def test_broken_build_is_caught_by_the_test_owning_the_rule(
    app: EmbeddedApp, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    name = request.node.callspec.params["app"]
    code, failed, output = _run_suite(app, tmp_path)
    assert code == 1, f"REFAPP_BROKEN={name}: the contract suite must fail (exit 1); got exit {code}:\n{output}"
    expected = EXPECTED_FAILURES[name]
    assert any(want in got for want in expected for got in failed), (
        f"REFAPP_BROKEN={name}: expected a failure of {expected}; the failing tests were {failed}:\n{output}"
    )
