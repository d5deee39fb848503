"""pytest fixtures of the fuzz tests, registered once by the root conftest.py (`pytest_plugins`).

The FuzzSession is one per process (a session fixture), made on first use and finished when
pytest finishes: `FuzzSummary` prints the figures, writes them to
`artifacts/fuzz/summary[-<worker>].json` and fails the run when fewer than 90% of the
answers were not 429, or when most were 401 or 429 (`contracts.fuzz.reach`; each fuzz test
is failed for that on its own answers as well).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.api.credentials import NO_CREDENTIALS, account
from contracts.fuzz import reach
from contracts.fuzz.session import WORKER_OUTPUT_KEY, FuzzSession, FuzzSummary
from contracts.fuzz.settings import budget, seed
from safety.skips import SkipCategory, skip_for_setup

SUMMARY_PLUGIN = "contract-fuzz-summary"
#: Operations whose fuzz cases log the account in (login with real credentials, a logout's own
#: login): against the shared account they run alone on it (testkit/items.py).
LOGGING_IN = ("POST /api/auth/login", "POST /api/auth/logout")
WORKER_SUMMARIES = pytest.StashKey[dict[str, dict[str, list[str]]]]()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give each fuzz test its operation in its node id, and mark those that log in.

    schemathesis names each test `test_fuzz_route[GET /api/health]` but leaves every node id
    `...::test_fuzz_route`, so a FAILED line would not say which operation failed.
    """
    for item in items:
        label = getattr(item, "operation_label", None)
        if label is None:
            continue
        base = item.nodeid
        if "[" in item.name and not base.endswith("]"):
            wanted = base + item.name[item.name.index("[") :]
            node_id = getattr(item, "_id", None)
            if node_id is not None:  # pytest 9 keeps a structured NodeId
                item._id = type(node_id).parse(wanted)
            else:
                item._nodeid = wanted  # type: ignore[attr-defined]
        if label in LOGGING_IN and item.get_closest_marker("shared_login") is None:
            item.add_marker(pytest.mark.shared_login)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist: keep a worker's fuzzing summary for the controller's terminal summary."""
    summary = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT_KEY)
    if summary:
        gateway = getattr(node, "gateway", None)
        name = str(getattr(gateway, "id", None) or "worker")
        node.config.stash.setdefault(WORKER_SUMMARIES, {})[name] = summary


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    summaries = session.config.stash.get(WORKER_SUMMARIES, {})
    if any(s.get("failures") for s in summaries.values()) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    summaries = terminalreporter.config.stash.get(WORKER_SUMMARIES, {})
    for name, summary in sorted(summaries.items()):
        terminalreporter.write_sep("=", f"contract fuzzing ({name})")
        for line in summary.get("lines", []):
            terminalreporter.write_line(line)
        for line in summary.get("failures", []):
            terminalreporter.write_line(line, red=True)


@pytest.fixture(scope="session")
def fuzz(request: pytest.FixtureRequest, target: str, target_cron_secret: str | None) -> FuzzSession:
    """The process's FuzzSession: pool of users, figures, failure records (and E2E_CRON_SECRET set
    for the embedded app: `target_cron_secret`)."""
    run_seed, explicit = seed()
    session = FuzzSession(target, budget(), run_seed, explicit)
    if not session.pool.use_fixtures and account() is None:
        # Every fuzz test skips with the one reason the other tests give, not NoFuzzUser.
        session.close()
        session.pool.close()
        skip_for_setup(SkipCategory.NO_CREDENTIALS, NO_CREDENTIALS)
    plugin = request.config.pluginmanager.get_plugin(SUMMARY_PLUGIN)
    if plugin is None:
        plugin = FuzzSummary()
        request.config.pluginmanager.register(plugin, SUMMARY_PLUGIN)
    plugin.sessions.append(session)
    return session


@pytest.fixture(autouse=True)
def _fuzz_figures(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each fuzz test, the process's running figures go into its JUnit properties
    (`--junitxml`): the place they reach under pytest-xdist, where the summary is not shown.
    And the test fails when most of its own answers were 401 or 429 (`reach.reach_problems`):
    a test error reaches the run's result under pytest-xdist too, where a worker's session
    exit status does not. Only tests that use `fuzz`: this fixture is registered for every
    test of the run.
    """
    session: FuzzSession | None = request.getfixturevalue("fuzz") if "fuzz" in request.fixturenames else None
    if session is None:
        yield
        return
    before = _snapshot(session)
    yield
    answers = reach.delta(session.stats.by_operation, before)
    request.node.user_properties.append(("fuzz_answers", json.dumps(answers, sort_keys=True)))
    problems = reach.reach_problems(answers)
    if problems:
        pytest.fail("this fuzz test reached too little: " + " ".join(problems), pytrace=False)
    stats = session.stats
    request.node.user_properties.extend(
        [
            ("fuzz_requests", stats.requests),
            ("fuzz_rate_limited", stats.rate_limited),
            ("fuzz_non_429_share", round(stats.non_429_share, 4)),
            ("fuzz_seed", session.seed),
        ]
    )


def _snapshot(session: FuzzSession) -> dict[str, Counter[int]]:
    return {label: Counter(counts) for label, counts in session.stats.by_operation.items()}
