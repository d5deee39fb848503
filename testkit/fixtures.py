"""Fixtures that contracts/ and specs/ share: the target, the API client and users of the target.

The root conftest.py registers this module (`pytest_plugins`), so both suites get the same
fixtures under the same names. Test data comes from POST /api/e2e/fixtures: every test gets
its own brand-new user, so tests never share data or a rate-limit budget and run in
parallel. Where the target answers 404 there, the suite falls back to the account in
E2E_EMAIL / E2E_PASSWORD (contracts.api.users.shared_user): its requests wait out a 429's
Retry-After (bounded) instead of failing; a second user is the E2E_EMAIL_2 / E2E_PASSWORD_2
account; and what the accounts cannot set up (failing actions, an isolated rate-limit budget,
a second user without E2E_EMAIL_2) is skipped through `safety.skips.skip_for_setup`, whose
category the end summary groups the skips by.

The target is pytest-playwright's `base_url`, which the safety plugin resolves and, without
--base-url, points at the embedded reference app.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

import httpx
import pytest

from contracts import api as c
from contracts.api.credentials import NO_SECOND_ACCOUNT, account
from contracts.api.users import FIXTURES_HOWTO, SHARED_RETRY
from safety.embedded import EmbeddedApp
from safety.skips import SkipCategory, skip_for_setup
from testkit import collection, items, waits
from testkit.budget import BudgetPlanner
from testkit.collection import SharedItems

CRON_SECRET_ENV = "E2E_CRON_SECRET"  # noqa: S105 - the variable's name, not a secret

SHARED_ACCOUNT = pytest.StashKey[items.SharedAccount | None]()
RUN_DIR = pytest.StashKey[str]()
#: The node ids of the run's tests (after deselection), for the whole-budget test that goes last.
RUN_TESTS = pytest.StashKey[Sequence[str]]()


# --------------------------------------------------------------------------- the shared account


def pytest_configure(config: pytest.Config) -> None:
    """One SharedAccount per process, on a directory that every process of the run shares."""
    waits.install(config.pluginmanager.get_plugin("capturemanager"))
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        run_id = str(workerinput["testrunuid"])
    else:
        run_id = getattr(config.option, "testrunuid", None) or uuid.uuid4().hex
        if hasattr(config.option, "testrunuid"):
            config.option.testrunuid = run_id  # pytest-xdist hands this one to the workers
    account = None
    if os.environ.get("E2E_EMAIL") and os.environ.get("E2E_PASSWORD"):
        directory = items.run_dir(run_id)
        account = items.SharedAccount(directory, BudgetPlanner(directory / "budget.json"))
        if workerinput is None:
            config.stash[RUN_DIR] = str(directory)
    config.stash[SHARED_ACCOUNT] = account
    items.activate(account)


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[RUN_TESTS] = [item.nodeid for item in session.items]


def pytest_runtest_logfinish(nodeid: str) -> None:
    account = items.active()  # the hook has no config to read the stash from
    if account is not None:
        account.finished(nodeid)


#: How many of the shared account's biggest execute spenders the end summary names (-v: all).
TOP_SPENDERS = 8


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """How the run spent the shared account's execute budget (every process's requests)."""
    account = shared_account(config)
    if account is None or not config.stash.get(RUN_DIR, None):
        return
    for who, gone, spends in account.undeclared():
        terminalreporter.write_line(
            f"e2e shared account: {who} used up {gone} of the queued items it held but declares "
            f"spends={spends}: mark it @pytest.mark.shared_items(..., spends={gone}) so the run order "
            "keeps the seeded items for the tests that need several at once",
            yellow=True,
        )
    reserved, waited = account.budget.totals()
    if reserved:
        terminalreporter.write_line(
            f"e2e shared account: {reserved} execute request(s) planned across the run's processes "
            f"({account.budget.pace} per {account.budget.window:.0f} s); tests waited {waited:.0f} s in all "
            "for the budget"
        )
        spenders = account.budget.spenders()
        shown = spenders if config.get_verbosity() > 0 else spenders[:TOP_SPENDERS]
        more = f" (and {len(spenders) - len(shown)} more: -v lists them all)" if len(shown) < len(spenders) else ""
        terminalreporter.write_line(
            "e2e shared account, execute requests by test: " + ", ".join(f"{who} {n}" for who, n in shown) + more
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    waits.uninstall()
    items.activate(None)
    directory = config.stash.get(RUN_DIR, None)
    if directory:  # the controller (or the only process) cleans up after the run
        shutil.rmtree(directory, ignore_errors=True)


def shared_account(config: pytest.Config) -> items.SharedAccount | None:
    return config.stash.get(SHARED_ACCOUNT, None)


@pytest.fixture(autouse=True)
def _shared_account_turn(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test that acts as the shared account takes a turn on it (testkit/items.py) for its length.

    Alone (`shared_login`) when it logs the account in itself; its items are given back when
    it ends; a `rate_limit_budget` test has the account alone and holds the whole execute budget.
    """
    account = shared_account(request.config)
    turn = collection.Turn.of(request.node, request.fixturenames)
    if account is None or turn is None or request.getfixturevalue("fixtures_enabled"):
        yield
        return
    who = request.node.nodeid
    try:  # a turn given up on still leaves the queue of waiters (end_turn)
        if turn.whole_budget and hasattr(request.config, "workerinput"):
            # Last: any request after it waits until its window has room again (about a minute).
            # Only other pytest-xdist workers can run tests meanwhile; alone, it runs when it runs.
            run_tests: Sequence[str] = request.config.stash.get(RUN_TESTS, ())
            account.wait_for_the_others(who, run_tests)
        account.take_turn(who, exclusive=turn.exclusive, logs_in=turn.logs_in)
        if "fuzz" in request.fixturenames:
            _hand_items_to_the_fuzzer(request, account, who)
        if turn.whole_budget:
            with account.budget.hold(who):
                yield
        else:
            yield
    finally:
        account.end_turn(who)


def _hand_items_to_the_fuzzer(request: pytest.FixtureRequest, account: items.SharedAccount, who: str) -> None:
    """A fuzz test that executes acts on the items it holds: the whole lead (it may run
    `run_next_actions`, which may close every queued item of the lead)."""
    count, whole_lead = _items_wanted(request, 0)
    if not whole_lead:
        return
    session = request.getfixturevalue("fuzz")
    user = _shared(request.getfixturevalue("api"), request, count)
    session.pool.use_shared_items(user.fixture.lead_id, [ref.id for ref in user.fixture.next_actions])


def _items_wanted(request: pytest.FixtureRequest, default: int) -> tuple[int, bool]:
    """(items, whole lead) from the test's `shared_items(n, whole_lead=False)` marker."""
    wanted = SharedItems.of(request.node)
    if wanted is None:
        return default, False
    return (default if wanted.count is None else wanted.count), wanted.whole_lead


def _shared(api: httpx.Client, request: pytest.FixtureRequest, count: int, **kw: object) -> c.User:
    wanted, whole_lead = _items_wanted(request, count)
    account, who = shared_account(request.config), request.node.nodeid
    if account is not None:
        # A test that asks for its user late (request.getfixturevalue) has no turn yet.
        request.addfinalizer(lambda: account.end_turn(who))
        account.take_turn(who)
    user = c.shared_user(
        api,
        min_queued=max(wanted, count),
        account=account,
        who=who,
        whole_lead=whole_lead,
        **kw,  # type: ignore[arg-type]
    )
    declared = SharedItems.of(request.node)
    if account is not None and not whole_lead:
        # Runs before end_turn (finalizers run last in, first out): the items are still held.
        spends = declared.spends if declared is not None else 0
        request.addfinalizer(lambda: _note_undeclared_spending(account, who, user, spends))
    return user


def _note_undeclared_spending(account: items.SharedAccount, who: str, user: c.User, spends: int) -> None:
    """Note a test that used up more of its held items than its `shared_items(spends=)` says:
    the run order counts on it (spenders go late, after the tests that need several items)."""
    held = {ref.id for ref in user.fixture.next_actions}
    try:
        queued = {str(i["id"]) for i in user.list_items("queued")}
    except (AssertionError, httpx.HTTPError):
        return  # the test's own failure says what went wrong with the target
    gone = len(held - queued)
    if gone > spends:
        account.note_undeclared(who, gone, spends)


# --------------------------------------------------------------------------- the target


@pytest.fixture(scope="session")
def target(base_url: str | None) -> str:
    """The base URL of the app under test, without a trailing slash."""
    if not base_url:
        pytest.fail(
            "no target: pass --base-url URL (or set E2E_BASE_URL); with neither, the e2e_safety "
            "plugin starts the embedded reference app, so check that it is active (pytest --help "
            "lists a 'safety' group).",
            pytrace=False,
        )
    return base_url.rstrip("/")


@pytest.fixture(scope="session")
def _session_api(target: str) -> Iterator[httpx.Client]:
    with c.client(target) as session_client:
        yield session_client


@pytest.fixture
def api(_session_api: httpx.Client) -> httpx.Client:
    """An httpx client to the target (no cookie jar, no redirects, no proxies from the env)."""
    return _session_api


@pytest.fixture
def new_client(target: str) -> Iterator[Callable[..., httpx.Client]]:
    """Make extra clients (e.g. one per thread); all are closed after the test."""
    made: list[httpx.Client] = []

    def make(**kw: object) -> httpx.Client:
        made.append(c.client(target, **kw))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def server_now() -> Callable[[httpx.Response], datetime]:
    """The server's time of a response, from its `Date` header (section 1)."""
    return c.server_now


@pytest.fixture
def idem_key() -> Callable[[], str]:
    """Fresh Idempotency-Key values, unique across runs."""
    return lambda: f"contract-{uuid.uuid4()}"


# --------------------------------------------------------------------------- users


@pytest.fixture(scope="session")
def fixtures_enabled(_session_api: httpx.Client) -> bool:
    """Whether the target has POST /api/e2e/fixtures (probed once with a body that creates nothing).

    Only mutating tests reach this fixture (testkit.collection marks every test that uses it),
    and the safety plugin skips those on production before any fixture runs.
    """
    return c.fixtures_available(_session_api)


@pytest.fixture
def make_user(api: httpx.Client, fixtures_enabled: bool) -> c.MakeUser:
    """Make a brand-new logged-in user through the fixtures endpoint (skips where it is absent)."""

    def make(next_actions: int = 3, failing_actions: Sequence[str] = ()) -> c.User:
        if not fixtures_enabled:
            skip_for_setup(
                SkipCategory.NO_FIXTURES_ENDPOINT,
                "needs its own fresh user (an isolated rate-limit budget, or failing actions), which only "
                f"POST /api/e2e/fixtures makes; the shared account cannot stand in: {FIXTURES_HOWTO}",
            )
        return c.fixtures_user(api, next_actions, failing_actions)

    return make


@pytest.fixture
def user_or_shared(api: httpx.Client, fixtures_enabled: bool, request: pytest.FixtureRequest) -> c.MakeUser:
    """Make a user: a brand-new fixtures user, or else the shared E2E_EMAIL account (or skip).

    `make(next_actions=3, failing_actions=())`; the shared account must have `next_actions`
    queued items on one lead and cannot have failing actions.
    """

    def make(next_actions: int = 3, failing_actions: Sequence[str] = ()) -> c.User:
        if fixtures_enabled:
            return c.fixtures_user(api, next_actions, failing_actions)
        return _shared(api, request, next_actions, failing_actions=failing_actions)

    return make


@pytest.fixture
def fresh(api: httpx.Client, fixtures_enabled: bool, request: pytest.FixtureRequest) -> c.User:
    """A logged-in user with queued next actions on one lead (`fresh.fixture`).

    A brand-new isolated fixtures user (three items) where the target has the endpoint;
    otherwise the E2E_EMAIL / E2E_PASSWORD account (at least one queued item), whose requests
    wait out a 429 (bounded).
    """
    return c.fixtures_user(api) if fixtures_enabled else _shared(api, request, 1)


@pytest.fixture(scope="session")
def reader(_session_api: httpx.Client, fixtures_enabled: bool, pytestconfig: pytest.Config) -> c.User:
    """One user per worker for tests that only read (never execute: no budget, no state change).

    Saves a fixtures call and a login per read-only test; tests that execute use `fresh`.
    """
    if not fixtures_enabled:
        # Holds no items: a view of the account's queued items (the tests only read).
        return c.shared_user(_session_api, min_queued=0, account=shared_account(pytestconfig))
    return c.fixtures_user(_session_api)


@pytest.fixture
def isolated(make_user: c.MakeUser) -> c.User:
    """A brand-new user with its own rate-limit budget; skipped where fixtures are absent."""
    return make_user()


@pytest.fixture
def second_user(api: httpx.Client, fixtures_enabled: bool) -> c.User:
    """Another user (for the 404-on-another-user's-id rules): a brand-new fixtures user, else the
    E2E_EMAIL_2 / E2E_PASSWORD_2 account with the queued items of its busiest lead (or skip)."""
    if fixtures_enabled:
        return c.fixtures_user(api)
    return second_account_user(api)


def second_account_user(api: httpx.Client) -> c.User:
    """The E2E_EMAIL_2 account, logged in; skips, naming the variables, when it is not configured."""
    credentials = account(second=True)
    if credentials is None:
        skip_for_setup(SkipCategory.NO_SECOND_ACCOUNT, NO_SECOND_ACCOUNT)
    email, password = credentials
    # Not isolated: every worker logs it in, so a 401 means log in afresh (c.User._send).
    token = c.login(api, email, password)
    user = c.User(api=api, token=token, email=email, password=password, retry=SHARED_RETRY, isolated=False)
    by_lead: dict[str, list[c.NextActionRef]] = {}
    for item in user.list_items("queued"):
        by_lead.setdefault(str(item["leadId"]), []).append(c.NextActionRef(str(item["id"]), str(item["title"])))
    lead_id, refs = max(by_lead.items(), key=lambda kv: len(kv[1]), default=("", []))
    if not refs:
        skip_for_setup(
            SkipCategory.NOT_ENOUGH_QUEUED_ITEMS,
            f"the second account {email} (E2E_EMAIL_2) needs at least one queued, unsnoozed next action "
            "(it has none): add one on the target",
        )
    user.data = c.FixtureData(email=email, password=password, lead_id=lead_id, next_actions=refs)
    return user


@pytest.fixture
def shared_account_user(api: httpx.Client, fixtures_enabled: bool, request: pytest.FixtureRequest) -> c.User:
    """The E2E_EMAIL account without the retry policy (for the budget test in fallback mode).

    Its requests take slots of the plan without waiting: a `rate_limit_budget` test holds the
    plan (testkit/budget.py `hold`), and the others then wait until its requests leave the window.
    """
    return c.shared_user(api, min_queued=0, retry=None, account=shared_account(request.config))


# --------------------------------------------------------------------------- the cron secret


@pytest.fixture(scope="session")
def target_cron_secret(embedded_app: EmbeddedApp | None) -> str | None:
    """E2E_CRON_SECRET, else the embedded app's own secret (known only to the process that started it).

    The embedded app's secret is exported as E2E_CRON_SECRET for this process, because the fuzz
    modules (contracts/fuzz/) read it from there.
    """
    secret = os.environ.get(CRON_SECRET_ENV) or (embedded_app.cron_secret if embedded_app is not None else None)
    if secret and not os.environ.get(CRON_SECRET_ENV):
        os.environ[CRON_SECRET_ENV] = secret
    return secret


@pytest.fixture
def cron_secret(target_cron_secret: str | None) -> str:
    secret = target_cron_secret
    if not secret:
        skip_for_setup(
            SkipCategory.NO_CRON_SECRET,
            f"{CRON_SECRET_ENV} is unset: set it to the target's cron secret (its CRON_SECRET) "
            "to check POST /api/cron/background-jobs (section 8)",
        )
    return secret


@pytest.fixture
def cron_secret_or_none(target_cron_secret: str | None) -> str | None:
    return target_cron_secret
