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

import pytest

from contracts.api.credentials import NO_CREDENTIALS, account
from contracts.fuzz import reach
from contracts.fuzz.session import FuzzSession, FuzzSummary
from contracts.fuzz.settings import budget, seed
from safety.skips import SkipCategory, skip_for_setup

SUMMARY_PLUGIN = "contract-fuzz-summary"


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
