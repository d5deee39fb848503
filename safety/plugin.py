"""pytest plugin of the production-safety harness: hooks, options and fixtures only.

The logic lives in small modules beside this one; the configuration table is in the
project README ("Configuration"), and `pytest --help` shows the `safety` option group and
every E2E_* variable (safety/variables.py).
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Generator
from typing import Any

import pytest

from safety import browser_guard, child_guard, coverage, network_guard, preflight, probes, wire_guard
from safety.decision import GuardDecision
from safety.embedded import EmbeddedApp, EmbeddedAppError
from safety.environment import EnvironmentNameError
from safety.hosts import HostEntryError, TargetClass
from safety.network_guard import BlockedRequestError, NetworkGuard
from safety.override import OverrideValueError
from safety.session import SafetySession
from safety.settings import load_policy, load_settings
from safety.skips import SkipCategory, tagged
from safety.strict import STRICT_ENV, STRICT_INI, StrictValueError, strict_mode
from safety.summary import BLOCKED, GUARD_ERRORED, GUARD_SKIPPED, MUTATING, PROGRAM, TAG, outside_lines
from safety.urls import InvalidTargetURL
from safety.variables import help_epilogue, unknown_variable_lines

SESSION_KEY = pytest.StashKey[SafetySession]()
EARLY_GUARD = pytest.StashKey[NetworkGuard]()
CHILDREN = pytest.StashKey[child_guard.Publisher]()
WORKER_DECISION = "e2e_safety_decision"
WORKER_OUTSIDE = "e2e_safety_outside"
GUARD_FIXTURE = "require_safe_base_url"


#: The suite's markers, declared here only, so they exist wherever the plugin is loaded.
MARKERS = (
    "mutating: the test changes state on the target; the safety guard skips it on a production target "
    "unless E2E_ALLOW_PROD_SCORE allows it.",
    "slow(seconds=60): takes more than a few seconds (waits out a rate-limit window; seconds: about how long, "
    "default 60); deselect with -m 'not slow'.",
    "smoke: read-only post-deploy check, safe to run against production.",
    f"{probes.MARKER}(method, path): a smoke check may send this method, on paths matching the pattern "
    "(* = one segment), to a production host, only with no Authorization or Cookie header (safety/probes.py).",
    "needs_fixtures: needs the target's POST /api/e2e/fixtures endpoint; skipped with a reason where it is absent.",
    "rate_limit_budget: spends a whole rate-limit budget; with the shared E2E_EMAIL account it runs last.",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("safety", "production safety (e2e_safety): nothing may mutate production by accident")
    group.addoption(
        "--safe-host",
        action="append",
        dest="safe_hosts",
        default=[],
        metavar="HOST",
        help="a host mutating tests may target (staging); repeat it or separate hosts with commas. "
        "Default: E2E_SAFE_HOSTS, else ini safe_hosts.",
    )
    group.addoption(
        "--prod-host",
        action="append",
        dest="prod_hosts",
        default=[],
        metavar="HOST",
        help="a production host, subdomains included; repeat it or separate hosts with commas. Merged with "
        "E2E_PROD_HOSTS and ini prod_hosts (a production listing anywhere counts); unlisted hosts are prod too.",
    )
    group.addoption(
        "--e2e-strict",
        action="store_const",
        const=True,
        dest="e2e_strict",
        default=None,
        help="fail the run (exit status 1) when tests were skipped for lack of setup (no credentials, no "
        f"fixtures endpoint, no cron secret, a production target, ...): for CI gates. Default: {STRICT_ENV}, "
        f"else ini {STRICT_INI}.",
    )
    group.addoption(
        "--no-e2e-strict",
        action="store_const",
        const=False,
        dest="e2e_strict",
        help=f"the opposite of --e2e-strict, beating {STRICT_ENV} and ini {STRICT_INI}.",
    )
    parser.addini(
        STRICT_INI,
        type="bool",
        default=False,
        help="fail a run that skipped tests for lack of setup, if neither --e2e-strict nor E2E_STRICT says.",
    )
    parser.addini(
        "safe_hosts",
        type="linelist",
        help="hosts mutating tests may target (QA lists staging), if neither --safe-host nor E2E_SAFE_HOSTS.",
    )
    parser.addini(
        "prod_hosts",
        type="linelist",
        help="production hosts, subdomains included; merged with --prod-host and E2E_PROD_HOSTS.",
    )
    parser.addini(
        "prod_environments",
        type="linelist",
        help='environment names (besides "production") that make a target whose /api/health names them '
        "production; also E2E_PROD_ENVIRONMENTS.",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Armed before any conftest is imported, so a conftest's import-time write is blocked too;
    # pytest_configure gives this guard the full settings.
    try:
        known = early_config.known_args_namespace
        policy = load_policy(
            early_config.getini("safe_hosts"),
            early_config.getini("prod_hosts"),
            cli_safe=getattr(known, "safe_hosts", None) or (),
            cli_prod=getattr(known, "prod_hosts", None) or (),
        )
    except HostEntryError as error:
        raise pytest.UsageError(str(error)) from None
    child_guard.retire()  # this pytest may be a test's child: its own guard takes over
    guard = NetworkGuard(policy)
    early_config.stash[EARLY_GUARD] = guard
    network_guard.install(guard)
    wire_guard.install()
    child_guard.watch_programs()


@pytest.hookimpl(wrapper=True)
def pytest_cmdline_main(
    config: pytest.Config,
) -> Generator[None, int | pytest.ExitCode | None, int | pytest.ExitCode | None]:
    result = yield
    if config.option.help:
        # pytest's help has no epilogue hook: the variables follow its own "Environment variables".
        writer = config.get_terminal_writer()
        writer.line()
        for line in help_epilogue():
            writer.line(line)
    return result


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    try:
        settings = load_settings(
            cli_value=config.getoption("base_url", None),
            invocation_args=config.invocation_params.args,
            ini_base_url=_ini_or_none(config, "base_url"),
            ini_safe=config.getini("safe_hosts"),
            ini_prod=config.getini("prod_hosts"),
            cli_safe=config.getoption("safe_hosts"),
            cli_prod=config.getoption("prod_hosts"),
            ini_prod_environments=config.getini("prod_environments"),
        )
        strict = strict_mode(config.getoption("e2e_strict"), os.environ, bool(config.getini(STRICT_INI)))
    except (InvalidTargetURL, HostEntryError, OverrideValueError, EnvironmentNameError, StrictValueError) as error:
        raise pytest.UsageError(str(error)) from None
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    early = config.stash.get(EARLY_GUARD, None)
    session = SafetySession(settings, workerinput.get(WORKER_DECISION) if workerinput else None, early)
    session.strict = strict
    config.stash[SESSION_KEY] = session
    if settings.choice.url is not None:
        # pytest-playwright's base_url fixture reads the option: give it the resolved target.
        config.option.base_url = settings.choice.url
    if early is None:
        network_guard.install(session.guard)
    config.stash[CHILDREN] = child_guard.Publisher(session.guard)
    browser_guard.install()
    config.pluginmanager.register(_Reporter(config, session), "e2e-safety-reporter")
    config.pluginmanager.register(_CoverageReporter(config, session), "e2e-safety-coverage")
    atexit.register(session.close)


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    early = config.stash.get(EARLY_GUARD, None)
    if session is None and early is not None:
        network_guard.release(early)  # the configuration failed (a usage error)
    if session is not None:
        late = session.guard.late
        if late:
            # Blocked after the summary (another plugin's session-finish or unconfigure hook).
            sys.stderr.write("".join(f"e2e network guard, outside any test: {entry}\n" for entry in late))
            _fail_session(session)
        session.close()
        # The process's own guard stays armed until exit; a block then ends it with status 1.
        armed = network_guard.release(session.guard)
        children = config.stash.get(CHILDREN, None)
        if children is not None:
            children.close(keep_environment=armed)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Before any other session-finish hook: a block in one is "after the test session".
    session.config.stash[SESSION_KEY].guard.finish_tests()


def _fail_session(state: SafetySession) -> None:
    session = state.pytest_session
    if session is not None and session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # Decide before xdist starts its workers, so they all receive the same decision.
    state = session.config.stash[SESSION_KEY]
    state.pytest_session = session
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        _preflight(session.config, state)
        state.decision()


def _preflight(config: pytest.Config, state: SafetySession) -> None:
    # Before the header and before xdist starts workers: an unreachable target is one usage
    # error (exit status 4), not every test failing on its own.
    choice = state.settings.choice
    if choice.url is None or config.option.showfixtures or config.option.show_fixtures_per_test:
        return
    if not preflight.collects_suite(config.args, config.invocation_params.dir, config.rootpath):
        return
    failure = preflight.preflight(choice.url)
    if failure is not None:
        raise pytest.UsageError(failure.message(choice.url, choice.source))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[WORKER_DECISION] = node.config.stash[SESSION_KEY].decision().to_json()


def pytest_report_header(config: pytest.Config) -> list[str]:
    return config.stash[SESSION_KEY].header_lines() + unknown_variable_lines(os.environ)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> Any:
    if fixturedef.argname == "base_url":
        state = request.config.stash[SESSION_KEY]
        if state.settings.choice.embedded:
            try:
                request.config.option.base_url = state.embedded_url()
            except EmbeddedAppError as error:
                pytest.fail(str(error), pytrace=False)
    return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    state = item.config.stash[SESSION_KEY]
    network_guard.activate(state.guard)
    state.guard.begin_test()
    try:
        declared = [probes.probe_from_marker(m.args, item.nodeid) for m in item.iter_markers(probes.MARKER)]
    except probes.ProbeMarkerError as error:
        pytest.fail(str(error), pytrace=False)
    if declared:
        state.guard.allow_probes(declared)
    if item.get_closest_marker("mutating") is not None:
        item.user_properties.append((TAG, MUTATING))
    # Before any fixture runs, so a session fixture that writes is never reached on prod.
    if item.get_closest_marker("mutating") is not None or GUARD_FIXTURE in getattr(item, "fixturenames", ()):
        _apply_guard(item, state)
    item.config.stash[CHILDREN].publish()


def _apply_guard(item: pytest.Item, state: SafetySession) -> GuardDecision:
    decision = state.decision()
    if decision.outcome == "skip":
        _tag(item, GUARD_SKIPPED)
        # Reported at the test's own location (as a skip marker is), not at this line, so
        # `-rs` names each skipped test instead of lumping them all under the plugin.
        raise pytest.skip.Exception(tagged(SkipCategory.TARGET_IS_PRODUCTION, decision.reason), _use_item_location=True)
    if decision.outcome == "error":
        _tag(item, GUARD_ERRORED)
        pytest.fail(f"production guard: {decision.reason}", pytrace=False)
    state.guard.permit(decision.writable_prod_hosts)
    item.config.stash[CHILDREN].publish()
    return decision


def _tag(item: pytest.Item, value: str) -> None:
    if (TAG, value) not in item.user_properties:
        item.user_properties.append((TAG, value))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.config.stash[CHILDREN].collect()  # what this test's child processes blocked
    guard = item.config.stash[SESSION_KEY].guard
    for program in guard.programs:
        report.user_properties.append((PROGRAM, program))
    guard.programs = []
    if guard.violations:
        # The test may have caught the error itself; a blocked write fails it all the same.
        if (TAG, BLOCKED) not in report.user_properties:
            report.user_properties.append((TAG, BLOCKED))
        _tag(item, BLOCKED)
        blocked = "\n".join(f"{BlockedRequestError.__name__}: {v}" for v in guard.violations)
        # In setup, call or teardown alike: a block in a fixture's teardown (a session fixture's
        # too, at the last test) is that test's error.
        if report.passed:
            report.outcome = "failed"
            report.longrepr = blocked
        elif report.failed:
            # It failed of something else first (say a timeout waiting for what the blocked
            # request would have shown): keep the cause in view beside that failure.
            report.sections.append(("e2e network guard", blocked))
        guard.violations = []
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, None, None]:
    try:
        return (yield)
    finally:
        item.config.stash[SESSION_KEY].guard.end_test()
        item.config.stash[CHILDREN].publish()


class _Reporter:
    """Per-config hooks that need the session state: the tally and the end summary (controller only)."""

    def __init__(self, config: pytest.Config, state: SafetySession) -> None:
        self.config = config
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.state.tally.record(report)
        self.state.coverage.record(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # After every other plain session-finish hook, before the summary is written.
        self.config.stash[CHILDREN].collect()
        self.state.guard.close()
        workeroutput: dict[str, Any] | None = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            # A worker's blocks outside its tests travel to the controller, which fails the run.
            workeroutput[WORKER_OUTSIDE] = list(self.state.guard.outside)
        else:
            if self.state.outside_blocks():
                _fail_session(self.state)
            if not self.config.option.collectonly and _verdict(self.state).strict_fails:
                _fail_session(self.state)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        self.state.remote_outside += getattr(node, "workeroutput", {}).get(WORKER_OUTSIDE, [])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        decision = None if self.config.option.collectonly else self.state.decision()
        terminalreporter.write_sep("=", "e2e production guard")
        for line in self.state.tally.lines(decision) + outside_lines(self.state.outside_blocks()):
            terminalreporter.write_line(line)


class _CoverageReporter:
    """The coverage section, printed last: after pytest's short test summary, before its last line."""

    def __init__(self, config: pytest.Config, state: SafetySession) -> None:
        self.config = config
        self.state = state

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None]:
        # The outermost wrapper: what follows the yield runs after every other summary section.
        try:
            return (yield)
        finally:
            if not self.config.option.collectonly:
                self._write(terminalreporter)

    def _write(self, terminalreporter: Any) -> None:
        decision = self.state.decision()
        verdict = _verdict(self.state)
        if not (self.state.coverage.rows() or verdict.lacking or verdict.partial or self.state.strict):
            return  # not a run of the suite (the harness's own tests): nothing to say
        terminalreporter.write_sep("=", "e2e coverage: what ran, what was skipped and why")
        for line in self.state.coverage.lines(verdict, f"{decision.target} ({decision.target_class})"):
            terminalreporter.write_line(line)
        # pytest's own last line, the one CI logs end with, says it too.
        if verdict.strict_fails:
            terminalreporter.stats["lacking setup (e2e STRICT)"] = [_Figure()] * sum(verdict.lacking.values())
        elif verdict.partial:
            terminalreporter.stats["mutating skipped (PARTIAL)"] = [_Figure()] * verdict.mutating_skipped
        else:
            return
        # pytest caches which kinds its last line shows (and its colour) while the tests run;
        # recompute them with the kind added here. Private, hence looked up defensively.
        recompute = getattr(terminalreporter, "_set_main_color", None)
        if callable(recompute):
            recompute()


def _verdict(state: SafetySession) -> coverage.Verdict:
    prod = state.decision().target_class is TargetClass.PROD
    return state.coverage.verdict(strict=state.strict, target_is_prod=prod)


class _Figure:
    """One count in pytest's last line (terminalreporter.stats holds reports or objects like this)."""

    count_towards_summary = True


@pytest.fixture
def require_safe_base_url(request: pytest.FixtureRequest, base_url: str | None) -> str:
    """Skip on a production target (unless E2E_ALLOW_PROD_SCORE allows it); return the base URL."""
    state = request.config.stash[SESSION_KEY]
    _apply_guard(request.node, state)
    assert base_url is not None
    return base_url


@pytest.fixture(scope="session")
def embedded_app(request: pytest.FixtureRequest, base_url: str | None) -> EmbeddedApp | None:
    """The embedded reference app when it is the target (`base_url` starts it), else None."""
    return request.config.stash[SESSION_KEY].embedded_app


def _ini_or_none(config: pytest.Config, name: str) -> str | None:
    try:
        value = config.getini(name)
    except ValueError:
        return None
    return str(value) if value else None
