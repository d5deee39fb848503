"""How the specs find things on a page: by role, label and accessible name only (contract §9).

Nothing here depends on the reference app's markup, ids or classes, so the specs pass against
any implementation that meets the contract. The `status` and `alert` regions are filtered by
their text, since a page may hold more than one (a framework's route announcer, say).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from email.utils import formatdate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Locator, Page, Request, Response, Route, expect

from contracts.api import NextActionRef
from testkit import settle, waits

if TYPE_CHECKING:
    from specs.accounts import Account

#: Action key -> its button's accessible name (contract section 6).
LABELS: dict[str, str] = {
    "mark_done": "Mark done",
    "snooze_1d": "Snooze 1 day",
    "recompute_score": "Recompute score",
    "run_risk_rules": "Run risk rules",
    "run_next_actions": "Run next actions",
    "retry_failed_deliveries": "Retry failed deliveries",
}

SUCCEEDED = re.compile(r"succeeded", re.IGNORECASE)
FAILED = re.compile(r"failed", re.IGNORECASE)
LOGIN_URL = re.compile(r"/login(?:[?#].*)?$")
NEXT_ACTIONS_URL = re.compile(r"/next-actions(?:[?#].*)?$")


def queue(page: Page) -> Locator:
    """The list named "Next actions"."""
    return page.get_by_role("list", name="Next actions", exact=True)


def item(page: Page, title: str) -> Locator:
    """The queue's list item holding `title`."""
    return queue(page).get_by_role("listitem").filter(has_text=title)


def button(page: Page, title: str, action_key: str) -> Locator:
    """The button of `action_key` on the item holding `title`."""
    return item(page, title).get_by_role("button", name=LABELS[action_key], exact=True)


def open_queue(page: Page, *titles: str) -> None:
    """Go to /next-actions and wait until the items holding `titles` show."""
    page.goto("/next-actions")
    for title in titles:
        expect(item(page, title)).to_be_visible()


def expect_succeeded(page: Page) -> None:
    """A `status` region says "succeeded"."""
    expect(page.get_by_role("status").filter(has_text=SUCCEEDED).first).to_be_visible()


def expect_failed(page: Page) -> None:
    """An `alert` says "failed"."""
    expect(page.get_by_role("alert").filter(has_text=FAILED).first).to_be_visible()


def run_action(page: Page, title: str, action_key: str) -> None:
    """Click the action's button on the item holding `title` (the item must be showing)."""
    button(page, title, action_key).click()


def expect_gone_after_reload(page: Page, gone: str, still_there: str) -> None:
    """Reload; once `still_there` shows (so the list has loaded), `gone` must not."""
    page.reload()
    expect(item(page, still_there)).to_be_visible()
    expect(item(page, gone)).to_have_count(0)


def wait_for_executions(
    page: Page, me: Account, nba_id: str, count: int, *, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """`nba_id`'s Execution records (newest first) once there are at least `count`.

    Polls the API (reads do not spend the rate-limit budget) for at most `timeout` seconds: a
    page may report an outcome a moment before or after the record is readable. It waits with
    `page.wait_for_timeout`, not `time.sleep`: the sync API handles the page's routed requests
    (the network guard's route sends every write) only inside a Playwright call, so a request
    a click sent would otherwise stall until the wait is over.
    """
    deadline = time.monotonic() + timeout
    runs = me.user.executions(nba_id)
    while len(runs) < count and time.monotonic() < deadline:
        page.wait_for_timeout(200)
        runs = me.user.executions(nba_id)
    assert len(runs) >= count, f"expected at least {count} execution(s) of {nba_id} within {timeout} s; got {runs}"
    return runs


def settled_executions(
    page: Page, me: Account, nba_id: str, *, quiet: float = 1.0, timeout: float = 6.0
) -> list[dict[str, Any]]:
    """`nba_id`'s Execution records (newest first) once they stopped changing for `quiet` seconds.

    For "ran once" checks: a page that sends a second request late (a resend, a second click
    let through) may have it recorded a moment after the page looks done, and a single read
    would miss it. Bounded by `timeout`; waits with `page.wait_for_timeout` (see above).
    """
    return settle.until_unchanged(
        lambda: me.user.executions(nba_id), _page_pause(page), quiet=quiet, timeout=timeout, step=quiet
    )


def _page_pause(page: Page) -> Callable[[float], None]:
    """A pause that hands Playwright the turn to deliver the page's routed requests meanwhile."""
    return lambda seconds: page.wait_for_timeout(seconds * 1000)


def score_text(score: int) -> re.Pattern[str]:
    """The text "Score: <n>", not matching a longer number ("Score: 4" is not "Score: 42")."""
    return re.compile(rf"Score:\s*{score}(?!\d)")


def act(page: Page, me: Account, nba: NextActionRef, action_key: str, *, double: bool = False) -> None:
    """Click (or `double`-click) the action's button on `nba`'s item; wait for "succeeded".

    With the shared E2E_EMAIL account (whose rate-limit budget the whole run spends), a
    "failed" that ran nothing (no new execution record) is taken for a rate limit: wait out
    its Retry-After (61 s when the page's requests do not show one), reload, and click once
    more. A fresh fixtures user has a budget of its own and gets no second chance.
    """

    def click() -> None:
        target = button(page, nba.title, action_key)
        if double:
            target.dblclick()
        else:
            target.click()

    if not me.shared:
        click()
        expect_succeeded(page)
        return
    ran_before = len(me.user.executions(nba.id))
    # The click's execute request spends the shared budget like any other (a double click: two).
    me.user.reserve(2 if double else 1)
    retry_after: list[str] = []

    def on_response(response: Response) -> None:
        if response.status == 429 and "/execute" in response.url:
            retry_after.append(response.headers.get("retry-after", ""))

    page.on("response", on_response)
    try:
        click()
        succeeded = page.get_by_role("status").filter(has_text=SUCCEEDED)
        failed = page.get_by_role("alert").filter(has_text=FAILED)
        expect(succeeded.or_(failed).first).to_be_visible()
        # A message that has shown may be gone again by now (toasts that disappear are fine):
        # only a "failed" still showing, with no "succeeded", counts as a failure.
        if succeeded.count() > 0 or failed.count() == 0:
            return
        assert len(me.user.executions(nba.id)) == ran_before, f"{LABELS[action_key]} ran and failed on {nba.title!r}"
        wait = int(retry_after[-1]) if retry_after and retry_after[-1].isdigit() else 60
        waits.notice(min(wait, 60) + 1, f"{LABELS[action_key]} on the page answered 429 (Retry-After {wait})")
        time.sleep(min(wait, 60) + 1)
        me.user.reserve()
        page.reload()
        expect(item(page, nba.title)).to_be_visible()
        click()
        expect_succeeded(page)
    finally:
        page.remove_listener("response", on_response)


#: The path of the execute route (contract section 6), whatever the id; a query is not part of it.
EXECUTE_PATH = re.compile(r"/api/next-actions/[^/]+/execute$")


class FailingExecute:
    """The page's execute requests, answered in the browser with a contract-shaped failure.

    `FailingExecute(page)` routes every POST whose URL path ends in
    `/api/next-actions/<id>/execute` and fulfils it with section 6's 500 `execution_failed`
    (section 1's error body, a `Date` header, `Content-Type: application/json`). Nothing reaches
    the server, so nothing runs and no rate-limit budget is spent: the shared account's budget
    (`act` reserves a slot per click) is not touched. Reads, and every other request, fall
    through to the next route (the network guard's). A page route is tried before a context
    route, so the guard never sees the faked request; the specs check that nothing ran.

    The fake answers as a correct server would: a request repeating an `Idempotency-Key` gets
    the first answer again (same `executionId`) with `Idempotent-Replayed: true`, since a
    resend with the same key runs nothing (section 6). `runs` counts what a server would have
    run: one per key, one per request without a key (an empty key counts as absent).

    With `hold=True` requests are kept unanswered until `release()`, to look at the page
    while the answer is outstanding.
    """

    def __init__(self, page: Page, *, hold: bool = False) -> None:
        self.page = page
        self.hold = hold
        self.requests: list[Request] = []
        self._held: list[Route] = []
        self._answers: dict[str, str] = {}  # Idempotency-Key -> the executionId first answered
        self._other_writes: list[str] = []
        page.on("request", self._note_other_write)
        page.route(self._matches, self._handle)

    def _note_other_write(self, request: Request) -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS") and not self._matches(request.url):
            self._other_writes.append(f"{request.method} {request.url}")

    @staticmethod
    def _matches(url: str) -> bool:
        return EXECUTE_PATH.search(urlsplit(url).path) is not None

    def _handle(self, route: Route) -> None:
        if route.request.method != "POST":
            route.fallback()
            return
        self.requests.append(route.request)
        if self.hold:
            self._held.append(route)
        else:
            self._fulfil(route)

    def _fulfil(self, route: Route) -> None:
        key = route.request.headers.get("idempotency-key", "")
        replayed = bool(key) and key in self._answers
        execution_id = self._answers[key] if replayed else f"faked-{uuid.uuid4().hex}"
        if key:
            self._answers[key] = execution_id
        headers = {"Date": formatdate(usegmt=True), "Content-Type": "application/json"}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        body = {
            "ok": False,
            "error": {
                "code": "execution_failed",
                "message": "The action failed (an answer faked by the e2e suite: nothing ran).",
                "executionId": execution_id,
            },
        }
        route.fulfill(status=500, headers=headers, body=json.dumps(body))

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self.hold = False
        held, self._held = self._held, []
        for route in held:
            self._fulfil(route)

    @property
    def runs(self) -> int:
        """Executions a server would have made of the requests so far (one per key; keyless: each)."""
        keys = [request.headers.get("idempotency-key", "") for request in self.requests]
        return len({key for key in keys if key}) + sum(1 for key in keys if not key)

    def settle(self, *, quiet: float = 0.5, timeout: float = 5.0) -> None:
        """Wait until no execute request has arrived for `quiet` seconds (at most `timeout`).

        For "ran once" checks: a page that resends late (after a failure, on a second click let
        through) may send a moment after it looks done; counting at once would miss it.
        """
        settle.until_unchanged(lambda: len(self.requests), _page_pause(self.page), quiet=quiet, timeout=timeout)

    def wait_for_requests(self, count: int, *, timeout: float = 10.0) -> None:
        """Wait until at least `count` execute requests arrived (bounded); fail naming the count."""
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)  # hands Playwright the turn to deliver routed requests
        if not self.requests and self._other_writes:
            # Section 9 does not say how a page runs an action: one that posts elsewhere (a
            # server-side action, say) cannot be faked here. The fixtures-only specs of the
            # failure path check it against a real failure.
            pytest.skip(
                f"the page ran the action through {self._other_writes}, not POST /api/next-actions/<id>/execute, "
                "so its answer cannot be faked in the browser; a target with POST /api/e2e/fixtures checks the "
                "failure path with a really failing action (specs/test_failure_path.py)"
            )
        assert len(self.requests) >= count, (
            f"expected {count} POST .../execute request(s) from the page within {timeout} s; got {len(self.requests)}"
        )
