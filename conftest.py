"""What the E2E suite's two halves, contracts/ and specs/, share; loaded for every run from here.

- Fixtures (testkit/fixtures.py: the target, the API client, users of the target) and the
  fuzz tests' fixtures (contracts/fuzz/fixtures.py), registered once through `pytest_plugins`.
- No guard, no run: collecting contracts/ or specs/ without the e2e_safety plugin is a usage
  error (testkit/required.py), whatever addopts or --strict-config say.
- Collection rules (testkit/collection.py): tests that create data are marked `mutating`;
  waits overlap the rest of the run unless tests share the E2E_EMAIL account's budget.
- pytest-xdist workers by default when whole folders of the suite run (testkit/workers.py):
  each waiting test on a worker of its own (testkit/overlap.py); `-n 0` runs in one process.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from testkit import collection, required, workers

ROOT = Path(__file__).resolve().parent
SUITE_DIRS = (ROOT / "contracts", ROOT / "specs")

# Outside the project's environment (a pytest without httpx, Playwright, schemathesis and the
# plugin) nothing here can be imported: say how to run the suite instead of what is missing.
_MISSING = [name for name in required.DEPENDENCIES if importlib.util.find_spec(name) is None]
if _MISSING:
    # A UsageError raised while a conftest loads is shown with a traceback; this is not a bug.
    sys.stderr.write(f"ERROR: {required.outside_environment(_MISSING)}\n")
    raise SystemExit(pytest.ExitCode.USAGE_ERROR)

pytest_plugins = ["testkit.fixtures", "contracts.fuzz.fixtures"]


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    # Before pytest-xdist reads -n (its own hook is tryfirst too; a conftest's runs before it).
    workers.apply_default_workers(config, SUITE_DIRS)


#: Markers of how a test uses the shared E2E_EMAIL account (testkit/items.py), where the target
#: has no fixtures endpoint; they change nothing for a fixtures user.
SHARED_ACCOUNT_MARKERS = (
    "shared_items(n, whole_lead=False, spends=0, unexecuted=False): acting as the shared account, the test "
    "needs n queued items of one lead that no other test holds (whole_lead: every queued item of the lead, for "
    "a test that runs run_next_actions); spends: how many of them leave the queue (such tests run late); "
    "unexecuted: it needs an item no action ran on yet (such a test runs first).",
    "shared_login: the test logs the shared account in itself (a login may end its other sessions), so "
    "it runs alone on the account.",
)


def pytest_configure(config: pytest.Config) -> None:
    for line in SHARED_ACCOUNT_MARKERS:
        config.addinivalue_line("markers", line)
    # Checked before anything is collected or imported; pytest_collection_modifyitems below
    # catches whatever reaches the suite some other way.
    if config.option.help:
        return  # reading the help runs nothing
    hits = required.suite_args(config.args, config.invocation_params.dir, SUITE_DIRS)
    if hits and not required.plugin_active(config.pluginmanager):
        raise required.refusal(" ".join(hits))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if collection.within(Path(item.path), SUITE_DIRS)]
    if not ours:
        return
    if not required.plugin_active(config.pluginmanager):
        raise required.refusal(ours[0].nodeid)
    collection.mark_items(ours, SUITE_DIRS)
    collection.order_items(items, shared_budget=collection.shares_one_budget(os.environ))
    # Imported here: it needs pytest-xdist, and the check above must be able to run without it.
    from testkit import overlap

    overlap.record_waiting(config, items)  # only in a worker of the default run (testkit/workers.py)
