"""safety-guard (sanity, in a real browser): on a production target a click that writes is stopped.

The real reference app poses as production: it listens on 127.0.0.3, and an inner pytest run
lists that address in `prod_hosts` (an explicit entry beats the loopback rule), with
E2E_ALLOW_PROD_SCORE unset. The inner run uses the specs' own fixtures and launch options
(`specs.conftest`) and runs:

- a mark-done click from a test that forgot its `mutating` marker: the network guard must fail
  it, naming the method and URL, and the app's access log must show that nothing state-changing
  arrived (the next action stays `queued`, with no execution);
- the same click marked `mutating`: skipped before its fixtures run, the reason naming the host
  and the override;
- this checkout's `specs/test_smoke.py`, verbatim: its read-only checks pass against
  production, and its one `mutating` check (a sign-in click) is skipped.

The outer test is deliberately not `mutating`: it never touches the suite's target (no
`base_url`, `page` or `api` fixture), so it is equally harmless and equally meaningful under
`pytest specs --base-url https://prod...`, where a `mutating` mark would skip it exactly where
the proof matters. Its only writes (the fixtures user and its login) go to its own throwaway
app on 127.0.0.3, which the outer run classifies as loopback, so its network guard lets them
through. It is not `smoke` either: it checks the harness, not the deployment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.api import User, client, create_fixture, login
from safety.embedded import EmbeddedApp, EmbeddedAppError
from safety.variables import HARNESS_ENV

ROOT = Path(__file__).resolve().parents[1]
# Not 127.0.0.2: scripts/guard_coverage.py lists that one as production for the outer run,
# whose guard would then (rightly) stop this test from setting up its own stand-in.
PROD_HOST = "127.0.0.3"
INNER_TIMEOUT = 240

#: The outer run's configuration must not leak into the inner one (which is told what to do).
LEAKY_ENV = (*HARNESS_ENV, "PYTEST_ADDOPTS", "PYTEST_PLUGINS")

INNER_INI = f"""[pytest]
addopts = -p no:cacheprovider -p no:xdist
pythonpath = {ROOT}
prod_hosts = {PROD_HOST}
filterwarnings =
    ignore:Session-scoped fixtures defined as instance methods:pytest.PytestRemovedIn10Warning
"""

# The suite's shared fixtures (target, api, users) and the specs' own (the Chromium lookup and
# launch options, expect timeouts), as the root conftest.py registers them.
INNER_CONFTEST = 'pytest_plugins = ["testkit.fixtures", "specs.conftest"]\n'

INNER_CLICKS = """
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from specs.accounts import session_cookie
from specs.helpers import FAILED, SUCCEEDED, open_queue, run_action


def click_mark_done(page: Page, context: BrowserContext, target: str) -> None:
    context.add_cookies([session_cookie(target, TOKEN)])
    open_queue(page, TITLE)
    run_action(page, TITLE, "mark_done")
    # Wait for the page to report either outcome, so that this test body passes on its own:
    # whatever fails it is the network guard.
    status = page.get_by_role("status").filter(has_text=SUCCEEDED)
    alert = page.get_by_role("alert").filter(has_text=FAILED)
    expect(status.or_(alert).first).to_be_visible()


def test_mark_done_click_without_the_mutating_marker(page: Page, context: BrowserContext, target: str) -> None:
    click_mark_done(page, context, target)


@pytest.mark.mutating
def test_mark_done_click_marked_mutating(page: Page, context: BrowserContext, target: str) -> None:
    click_mark_done(page, context, target)
"""

SMOKE_READ_ONLY = (
    "test_health_answers_ok",
    "test_the_login_page_has_labelled_fields_and_a_sign_in_button",
    "test_next_actions_without_a_session_lands_on_login",
    "test_a_lead_page_without_a_session_lands_on_login",
)
SMOKE_MUTATING = ("test_a_wrong_password_shows_an_alert_and_stays_on_login",)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@pytest.fixture
def prod_app() -> Iterator[EmbeddedApp]:
    """The real reference app on 127.0.0.3: production, as far as the inner run knows."""
    app = EmbeddedApp(host=PROD_HOST)
    try:
        app.start()
    except EmbeddedAppError as error:
        app.stop()
        pytest.fail(str(error), pytrace=False)
    yield app
    app.stop()


def access_log(app: EmbeddedApp) -> list[str]:
    return app.access_log.read_text().splitlines() if app.access_log.exists() else []


def outcomes(junit_xml: Path) -> dict[str, tuple[str, str]]:
    """`file.py::test` -> (passed|failed|skipped|error, message and text) from a JUnit XML report.

    pytest-playwright's `[chromium]` parameter is dropped from the names.
    """
    found: dict[str, tuple[str, str]] = {}
    for case in ET.parse(junit_xml).iter("testcase"):  # noqa: S314 - the inner run's own report
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.py::{case.get('name', '').split('[', 1)[0]}"
        result = ("passed", "")
        for kind in ("failure", "error", "skipped"):
            node = case.find(kind)
            if node is not None:
                text = f"{node.get('message', '')}\n{node.text or ''}"
                result = ("failed" if kind == "failure" else kind, text)
                break
        found[name] = result
    return found


def test_a_forgotten_marker_click_is_blocked_on_prod_and_smoke_still_passes(
    prod_app: EmbeddedApp, tmp_path: Path
) -> None:
    with client(prod_app.url) as http:
        data = create_fixture(http, next_actions=1)
        token = login(http, data.email, data.password)
        user = User(api=http, token=token, email=data.email, password=data.password, data=data)
        nba = data.next_actions[0]
        mark = len(access_log(prod_app))

        (tmp_path / "pytest.ini").write_text(INNER_INI)
        (tmp_path / "conftest.py").write_text(INNER_CONFTEST)
        (tmp_path / "test_clicks.py").write_text(f"TOKEN = {token!r}\nTITLE = {nba.title!r}\n{INNER_CLICKS}")
        (tmp_path / "test_smoke.py").write_text((ROOT / "specs" / "test_smoke.py").read_text())
        env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV and not k.startswith("PYTEST_XDIST")}
        report = tmp_path / "junit.xml"
        inner = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-c",
                str(tmp_path / "pytest.ini"),
                "--rootdir",
                str(tmp_path),
                f"--base-url={prod_app.url}",
                f"--junitxml={report}",
                "-rA",
                str(tmp_path),
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=INNER_TIMEOUT,
            check=False,
        )
        out = inner.stdout + inner.stderr
        seen = access_log(prod_app)[mark:]

        # The inner run saw the app as production, and said so.
        assert f"e2e target class: prod: {PROD_HOST} is listed as production in pytest.ini prod_hosts." in out, out
        assert "e2e mutating tests: will be SKIPPED (E2E_ALLOW_PROD_SCORE not set)" in out, out
        assert inner.returncode == 1, out
        results = outcomes(report)
        blocked = f"POST {prod_app.url}/api/next-actions/{nba.id}/execute (via Playwright page)"
        skipped = f"mutating test skipped: the target {PROD_HOST} ({prod_app.url}/) is production"
        expected = {
            "test_clicks.py::test_mark_done_click_without_the_mutating_marker": "failed",
            "test_clicks.py::test_mark_done_click_marked_mutating": "skipped",
            **{f"test_smoke.py::{name}": "passed" for name in SMOKE_READ_ONLY},
            **{f"test_smoke.py::{name}": "skipped" for name in SMOKE_MUTATING},
        }
        # Any test added to test_smoke.py later: read-only ones must pass, mutating ones be skipped.
        actual = {name: outcome for name, (outcome, _) in results.items()}
        assert {name: actual.get(name) for name in expected} == expected, out
        assert {actual[name] for name in actual.keys() - expected.keys()} <= {"passed", "skipped"}, out

        # The forgotten marker: failed by the network guard itself, naming the method and URL.
        failure = results["test_clicks.py::test_mark_done_click_without_the_mutating_marker"][1]
        assert f"BlockedRequestError: network guard blocked {blocked}" in failure, failure
        assert f"{PROD_HOST} is listed as production in pytest.ini prod_hosts." in failure, failure
        assert "@pytest.mark.mutating" in failure, failure
        # The marked tests: skipped by the production guard, naming the host and the override.
        for name, (outcome, reason) in results.items():
            if outcome == "skipped":
                assert skipped in reason, (name, reason)
                assert "set E2E_ALLOW_PROD_SCORE=1" in reason, (name, reason)
        assert "1 test(s) FAILED because the network guard blocked" in out, out
        assert "  test_clicks.py::test_mark_done_click_without_the_mutating_marker[chromium]" in out, out
        assert f"mutating test(s) SKIPPED by the production guard on {prod_app.url}/ (prod)" in out, out

        # Nothing state-changing reached the server, though the browser did read from it.
        assert [line for line in seen if line.split(" ", 1)[0] in WRITES] == [], seen
        for read in ("GET /api/health 200", "GET /login 200", "GET /next-actions 200", "GET /api/next-actions 200"):
            assert read in seen, (read, seen)
        assert user.nba(nba.id)["status"] == "queued"
        assert user.executions(nba.id) == []
