"""The network guard inside a real browser: every Playwright path to a production host.

Production is played by 127.0.0.2 through an explicit prod entry; its request log
proves that a blocked write never arrived. Each inner test forgets its
`mutating` marker on purpose, so only the network guard stands in the way.
"""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import sync_playwright

from specs.browser import BrowserNotFound, bundled_candidates, find_chromium
from tests.safety.stand_in import StandIn

INI = "[pytest]\naddopts = -p no:cacheprovider\nprod_hosts = 127.0.0.2\n"

INNER = """
import pytest
from playwright.sync_api import sync_playwright

PROD = {prod!r}
LOCAL = {local!r}
REDIRECTOR = {redirector!r}  # a local host that answers everything with a 307 to production


@pytest.fixture(scope="module")
def pw():
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(pw):
    browser = pw.chromium.launch(**{launch!r})
    yield browser
    browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_page_fetch_post(page):
    page.goto(PROD + "/page")
    outcome = page.evaluate("fetch('/api/page-fetch', {{method: 'POST'}}).then(() => 'sent', () => 'refused')")
    assert outcome == "refused"


def test_form_submission(page):
    page.goto(PROD + "/page")
    page.set_content(
        '<form method="post" action="' + PROD + '/api/form"><button>go</button></form>'
    )
    page.get_by_role("button", name="go").click()
    page.wait_for_load_state()


def test_route_that_rewrites_the_method(page):
    page.route("**/api/rewrite", lambda route: route.continue_(method="DELETE"))
    page.goto(PROD + "/page")
    page.evaluate("fetch('/api/rewrite').then(() => 'sent', () => 'refused')")


def test_form_redirected_to_prod_by_a_local_host(page):
    # Chromium follows a 307 itself, keeping the POST, and Playwright never routes the hop.
    page.goto(LOCAL + "/page")
    page.set_content(
        '<form method="post" action="' + REDIRECTOR + '/api/redirected-form"><button>go</button></form>'
    )
    page.get_by_role("button", name="go").click()
    page.wait_for_load_state()


def test_page_request_redirected_to_prod(page):
    # APIRequestContext follows redirects inside Playwright's driver, keeping the method on a 307.
    page.request.post(REDIRECTOR + "/api/redirected-request", data="x")


def test_page_request(page):
    page.request.post(PROD + "/api/page-request", data={{"a": 1}})


def test_context_request_with_base_url(browser):
    context = browser.new_context(base_url=PROD)
    try:
        context.request.put("/api/context-request")
    finally:
        context.close()


def test_playwright_request(pw):
    request = pw.request.new_context(base_url=PROD + "/api/")
    try:
        request.delete("playwright-request")
    finally:
        request.dispose()


def test_websocket(page):
    page.goto(LOCAL + "/page")
    page.evaluate(
        "new Promise(done => {{ const ws = new WebSocket('ws://' + {prod_host!r} + '/api/socket');"
        " ws.onclose = () => done('closed'); ws.onerror = () => done('error'); ws.onopen = () => done('open'); }})"
    )


def test_read_only_browsing_of_prod_passes(page):
    page.goto(PROD + "/page")
    assert page.request.get(PROD + "/api/read").ok
    assert page.request.head(PROD + "/api/read").ok
    assert page.evaluate("fetch('/api/read-fetch').then(r => r.status)") == 200


def test_writes_to_a_local_host_pass(page):
    page.goto(LOCAL + "/page")
    assert page.evaluate("fetch('/api/local-write', {{method: 'POST'}}).then(r => r.status)") == 200
    assert page.request.post(LOCAL + "/api/local-request").ok


def test_service_workers_are_blocked(page):
    page.goto(LOCAL + "/page")
    outcome = page.evaluate(
        "navigator.serviceWorker.register('/sw.js').then(() => 'registered', e => 'refused: ' + e)"
    )
    assert outcome != "registered"
"""

BLOCKED = [
    "test_page_fetch_post",
    "test_form_submission",
    "test_route_that_rewrites_the_method",
    "test_page_request",
    "test_context_request_with_base_url",
    "test_playwright_request",
    "test_websocket",
    "test_form_redirected_to_prod_by_a_local_host",
    "test_page_request_redirected_to_prod",
]


def test_every_playwright_path_to_prod_is_blocked(pytester: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    pytester.makeini(INI)
    try:
        # Playwright's own Chromium where it is installed, else E2E_CHROMIUM / `chromium`, as the specs do.
        with sync_playwright() as playwright:
            bundled = bundled_candidates(playwright.chromium.executable_path)
        launch = {**find_chromium(os.environ, bundled).launch_args({}), "headless": True}
    except BrowserNotFound as error:
        pytest.fail(str(error), pytrace=False)
    redirector = StandIn("127.0.0.1", redirect_to=prod.url, redirect_status=307).start()
    try:
        pytester.makepyfile(
            INNER.format(
                prod=prod.url,
                local=local.url,
                redirector=redirector.url,
                launch=launch,
                prod_host=f"127.0.0.2:{prod.port}",
            )
        )
        result = pytester.runpytest_subprocess(f"--base-url={local.url}", "-rf")
    finally:
        redirector.stop()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == len(BLOCKED), result.stdout.str()
    assert outcomes.get("passed") == 3, result.stdout.str()
    # The guard's end summary lists exactly the tests it failed.
    out = result.stdout.str()
    summary = out[out.index(f"{len(BLOCKED)} test(s) FAILED because the network guard blocked") :]
    listed = {
        line.strip().split("::")[-1].split("[")[0]
        for line in summary.splitlines()[1:]
        if line.startswith("  ") and "::" in line
    }
    assert set(BLOCKED) <= listed, summary
    # Nothing state-changing reached production, and the socket never opened there.
    assert prod.writes == []
    assert not any(path.startswith("/api/socket") for _, path in prod.received)
    assert ("GET", "/api/read") in prod.received
    assert ("POST", "/api/local-write") in local.received


CORNERS = """
import re

import pytest
from playwright.sync_api import sync_playwright

PROD = {prod!r}
LOCAL = {local!r}
# What an analytics script does: report on the way out, by every means a page has.
ANALYTICS = '''
addEventListener("pagehide", () => {{
  navigator.sendBeacon("/api/beacon-pagehide", "x");
  fetch("/api/keepalive-pagehide", {{method: "POST", keepalive: true, body: "x"}});
  const xhr = new XMLHttpRequest(); xhr.open("post", "/api/xhr-pagehide"); xhr.send("x");
}});
document.addEventListener("visibilitychange", () => {{
  navigator.sendBeacon("/api/beacon-hidden", new URLSearchParams({{a: "1"}}));
  fetch("/api/keepalive-hidden", {{method: "PUT", keepalive: true, body: new Uint8Array([1, 2])}});
}});
'''


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**{launch!r})
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


def visit(page, origin):
    page.goto(origin + "/page")
    page.evaluate(ANALYTICS)


def test_unload_on_navigation(page):
    visit(page, PROD)
    page.goto(LOCAL + "/page")


def test_unload_on_page_close(browser):
    context = browser.new_context()
    page = context.new_page()
    visit(page, PROD)
    page.close()
    context.close()


def test_unload_on_context_close(browser):
    context = browser.new_context()
    visit(context.new_page(), PROD)
    context.close()


def test_unload_at_fixture_teardown(page):
    visit(page, PROD)


def test_unroute_cannot_remove_the_guard(page):
    page.context.unroute_all()
    page.context.unroute(re.compile(".*"))
    page.unroute_all()
    page.goto(PROD + "/page")
    outcome = page.evaluate("fetch('/api/after-unroute', {{method: 'POST'}}).then(() => 'sent', () => 'refused')")
    assert outcome == "refused"


def test_shared_workers_are_blocked(page):
    page.goto(LOCAL + "/page")
    outcome = page.evaluate(
        "(() => {{ try {{ new SharedWorker('/sw.js'); return 'made'; }} "
        "catch (e) {{ return 'refused: ' + e.name; }} }})()"
    )
    assert outcome == "refused: SecurityError"
"""


def test_browser_corners_send_nothing_to_prod(pytester: pytest.Pytester, prod: StandIn, local: StandIn) -> None:
    pytester.makeini(INI)
    try:
        with sync_playwright() as playwright:
            bundled = bundled_candidates(playwright.chromium.executable_path)
        launch = {**find_chromium(os.environ, bundled).launch_args({}), "headless": True}
    except BrowserNotFound as error:
        pytest.fail(str(error), pytrace=False)
    pytester.makepyfile(CORNERS.format(prod=prod.url, local=local.url, launch=launch))

    # Without the guard, the very same pages do write to production on the way out: the
    # scenario is real, so the zero below means something.
    unguarded = pytester.runpytest_subprocess("-p", "no:e2e_safety", "-k", "unload")
    unguarded.assert_outcomes(passed=4)
    prod.settle()  # its last beacons may still be arriving: not the guarded run's
    assert {path for _, path in prod.writes} >= {"/api/beacon-pagehide", "/api/keepalive-pagehide"}, prod.writes
    prod.received.clear()

    result = pytester.runpytest_subprocess(f"--base-url={local.url}", "-rA")
    out = result.stdout.str()
    assert prod.writes == [], out
    # The blocks the guard saw fail their tests: a write after unroute_all(), the beacons of a
    # context closed in the test or at the page fixture's teardown. Writes from documents
    # already gone (navigation, page.close()) are dropped before they leave, unseen.
    result.stdout.fnmatch_lines(["FAILED *::test_unroute_cannot_remove_the_guard*"])
    result.stdout.fnmatch_lines(["FAILED *::test_unload_on_context_close*"])
    result.stdout.fnmatch_lines(["ERROR *::test_unload_at_fixture_teardown*"])
    result.stdout.fnmatch_lines(["PASSED *::test_shared_workers_are_blocked*"])
