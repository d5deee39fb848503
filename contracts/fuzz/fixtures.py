"""pytest fixtures of the fuzz tests, registered once by the root conftest.py (`pytest_plugins`).

The FuzzSession is one per process (a session fixture), made on first use and finished when
pytest finishes: `FuzzSummary` prints the figures, writes them to
`artifacts/fuzz/summary[-<worker>].json` and fails the run when fewer than 90% of the
answers were not 429.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from contracts.fuzz.session import FuzzSession, FuzzSummary
from contracts.fuzz.settings import budget, seed

SUMMARY_PLUGIN = "contract-fuzz-summary"


@pytest.fixture(scope="session")
def fuzz(request: pytest.FixtureRequest, target: str, target_cron_secret: str | None) -> FuzzSession:
    """The process's FuzzSession: pool of users, figures, failure records (and E2E_CRON_SECRET set
    for the embedded app: `target_cron_secret`)."""
    run_seed, explicit = seed()
    session = FuzzSession(target, budget(), run_seed, explicit)
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
    Only tests that use `fuzz`: this fixture is registered for every test of the run."""
    session: FuzzSession | None = request.getfixturevalue("fuzz") if "fuzz" in request.fixturenames else None
    yield
    if session is None:
        return
    stats = session.stats
    request.node.user_properties.extend(
        [
            ("fuzz_requests", stats.requests),
            ("fuzz_rate_limited", stats.rate_limited),
            ("fuzz_non_429_share", round(stats.non_429_share, 4)),
            ("fuzz_seed", session.seed),
        ]
    )
