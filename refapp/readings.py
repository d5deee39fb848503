"""The second reading: REFAPP_READINGS=other takes the other allowed choice at every free point.

The contract (shared/CONTRACT.md) leaves many points free. The default reading is the app as
it always was; `other` flips every point in READING_POINTS at once, so the suite can be run
against a second, equally correct implementation and shown not to depend on any of them.

Each point names its contract section, what the other reading does, and the contract sentence
that allows it (refapp/README.md lists the same table; a test checks they agree).

Code that has no Settings at hand (time formatting, id generation, the UI) asks `other(name)`:
the active reading is kept in a context variable that `ReadingMiddleware` sets per request
(Starlette's thread pool copies the context, so the worker threads see it too).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

DEFAULT = "default"
OTHER = "other"
READINGS: tuple[str, ...] = (DEFAULT, OTHER)


@dataclass(frozen=True)
class ReadingPoint:
    section: str
    other: str
    allowed_by: str


READING_POINTS: dict[str, ReadingPoint] = {
    # --- 1. Conventions ---------------------------------------------------------------
    "whole_second_times": ReadingPoint(
        "1", "times have no fractional seconds", "Times are ISO 8601 with an offset or `Z`."
    ),
    "offset_times": ReadingPoint(
        "1", "times end in `+00:00` instead of `Z`", "Times are ISO 8601 with an offset or `Z`."
    ),
    "numeric_ids": ReadingPoint(
        "1",
        "every id is a 30-digit decimal number (as a string)",
        "Ids are opaque strings (the suite never parses them).",
    ),
    "wrong_method_404": ReadingPoint(
        "1",
        "a wrong method on a known path answers 404 `not_found` (default: 405)",
        "Not covered here, and free: the answer to a wrong method on a known path",
    ),
    "body_over_1mib_413": ReadingPoint(
        "1",
        "a request body over 1 MiB answers 413 `payload_too_large` (default: 400 `invalid_body`)",
        "Not covered here, and free: ... to a request body over 1 MiB",
    ),
    "non_json_415": ReadingPoint(
        "1",
        "a non-empty body sent with a `Content-Type` that is not JSON answers 415 `unsupported_media_type` "
        "(default: the type is not checked)",
        "a request whose `Content-Type` is not JSON (400 `invalid_body` or 415 are both fine)",
    ),
    "null_contract_names": ReadingPoint(
        "1",
        'success answers carry `"error": null`; error answers carry `"executionId": null` in `error` '
        "where the contract does not set it",
        "An extra field may repeat a name this page uses elsewhere with a `null` value (v1.1)",
    ),
    "other_error_messages": ReadingPoint("1", "error messages are worded differently", "the message text is free"),
    # --- 2. Auth ----------------------------------------------------------------------
    "samesite_strict": ReadingPoint(
        "2", "the session cookie is `SameSite=Strict`", "(HttpOnly, Path=/, SameSite=Lax or Strict; ...)"
    ),
    "cookie_wins": ReadingPoint(
        "2",
        "when both are sent, the `session` cookie wins over `Authorization: Bearer`",
        "Which one wins when both are sent is free.",
    ),
    "logout_keeps_cookie": ReadingPoint(
        "2",
        'logout does not clear the cookie, and answers `{"loggedOut": true}` (no `ok`)',
        "(its body, and whether the cookie is cleared, are free)",
    ),
    "email_case_sensitive": ReadingPoint(
        "2", "emails match case-sensitively", "Whether emails match case-insensitively is free."
    ),
    "login_ends_sessions": ReadingPoint(
        "2",
        "a new login ends the user's earlier sessions",
        "Whether a new login ends the user's earlier sessions is free (v1.1)",
    ),
    "persistent_cookie": ReadingPoint(
        "2",
        "the session cookie is persistent (`Max-Age=604800`); default: a session cookie",
        "a cookie `session=<token>` (HttpOnly, Path=/, SameSite=Lax or Strict; Secure when served over https)",
    ),
    "hex_tokens": ReadingPoint("2", "tokens are 64 hex digits", '`{"ok": true, "token": "<opaque>"}`'),
    "login_extra_fields": ReadingPoint(
        "2",
        'login answers also carry `"user": {"id"}` and `"expiresAt": null`',
        "Responses may carry extra fields",
    ),
    # --- 3. Health --------------------------------------------------------------------
    "health_extra_fields": ReadingPoint(
        "3",
        'health also carries `"version"` and `"time"` (its `"environment"` stays what REFAPP_ENVIRONMENT says)',
        'Free to add fields (version, migration revision). ... It may carry `"environment"`',
    ),
    # --- 4. Fixtures --------------------------------------------------------------------
    "whitespace_body_empty": ReadingPoint(
        "4",
        "a fixtures body of only whitespace means `{}` (default: 400 `invalid_body`)",
        "whether a body of only whitespace means `{}` or is 400 `invalid_body` is free (v1.1)",
    ),
    "failing_inherited": ReadingPoint(
        "4",
        "next actions created by `run_next_actions` inherit the lead's `failingActions`",
        "Whether next actions created later by `run_next_actions` inherit this is free.",
    ),
    "integral_float_count": ReadingPoint(
        "4",
        '`{"nextActions": 2.0}` is the integer 2 (default: 400 `invalid_body`)',
        '`{"nextActions": n}` (an integer 1..50, default 3)',
    ),
    "lead_scored_at_creation": ReadingPoint(
        "4",
        "a fixture lead starts with `scoreUpdatedAt` and `riskEvaluatedAt` set (default: null)",
        "one lead owned by that user (its initial times are not described)",
    ),
    "punctuated_lead_names": ReadingPoint(
        "4",
        "lead names hold an apostrophe, `&`, brackets and regex metacharacters",
        '`GET /api/leads/{id}` ... `{"id", "name", ...}` (what a name holds is not described)',
    ),
    "fixture_extra_fields": ReadingPoint(
        "4",
        "the fixtures answer also carries the user's id, the lead's name and each next action's status",
        "Responses may carry extra fields",
    ),
    "other_titles": ReadingPoint(
        "4",
        "titles read `Call (<hex>) back?` (unique, fixed width, none contains another)",
        "Every title is unique across all calls, and no title contains another",
    ),
    # --- 5. Next actions ----------------------------------------------------------------
    "newest_first_next_actions": ReadingPoint(
        "5", "next-action lists are newest first (default: oldest first)", "list order, unless stated"
    ),
    "repeated_status_400": ReadingPoint(
        "5",
        "a repeated `status` parameter answers 400 `invalid_query` (default: the last value is used)",
        "A repeated `status` parameter is free.",
    ),
    "nba_extra_fields": ReadingPoint(
        "5",
        'next actions also carry `"createdAt"` and `"executionId": null`; leads carry `"leadId": null`',
        "Responses may carry extra fields ... may repeat a name this page uses elsewhere with a `null` value",
    ),
    "risk_flags_reversed": ReadingPoint(
        "5", "a lead's risk flags are listed in reverse order", "list order, unless stated"
    ),
    "recompute_keeps_score": ReadingPoint(
        "6",
        "`recompute_score` keeps the score (only `scoreUpdatedAt` moves)",
        "(`recompute_score`:) the lead's `scoreUpdatedAt` moves to the time of the request",
    ),
    "snooze_to_the_minute": ReadingPoint(
        "6",
        "`snooze_1d` sets `snoozedUntil` to now + 24 h rounded down to the minute",
        "`snoozedUntil` = now + 24 h (within 5 min)",
    ),
    # --- 6. Execute ---------------------------------------------------------------------
    "stubbed_false": ReadingPoint(
        "6",
        'successes of other actions carry `"stubbed": false`',
        'other actions may carry `"stubbed": false` or nothing, v1.1',
    ),
    "replayed_false": ReadingPoint(
        "6",
        "first answers carry `Idempotent-Replayed: false`",
        "what a first answer carries in that header is free, v1.1",
    ),
    "in_flight_409": ReadingPoint(
        "6",
        "a request arriving while the first with its key runs gets 409 `idempotency_key_in_flight` at once "
        "(default: waits and replays)",
        "gets either that replay or 409 `idempotency_key_in_flight` (free)",
    ),
    "retry_after_60": ReadingPoint(
        "6",
        "`Retry-After` is always 60",
        "a `Retry-After` header in delay-seconds (an integer, 1..60)",
    ),
    "count_429s": ReadingPoint(
        "6", "requests answered 429 count against the budget", "Whether requests answered 429 count is free."
    ),
    "long_keys_accepted": ReadingPoint(
        "6",
        "`Idempotency-Key`s over 255 characters are accepted (stored hashed); default: 400",
        "keys of 1..255 characters MUST be accepted",
    ),
    "stub_emits_executed": ReadingPoint(
        "6",
        "the stub action emits `nba.delivery.executed` as well as `nba.delivery.stubbed`",
        "whether it also emits `executed` is free",
    ),
    "run_next_actions_closes": ReadingPoint(
        "6",
        "`run_next_actions` closes (marks done) every queued next action of the lead, this one included, "
        "and creates two new ones",
        "whether old ones are kept, closed or replaced is free",
    ),
    "execute_extra_fields": ReadingPoint(
        "6",
        'execute answers also carry `"nextActionId"` and `"actionKey"`',
        "Responses may carry extra fields",
    ),
    # --- 7. Ops events ------------------------------------------------------------------
    "extra_event_types": ReadingPoint(
        "7",
        "every execution also emits an event of a type the contract does not name, `nba.execution.recorded`",
        "Exactly one of `executed` or `failed` per execution that ran (other types are not described)",
    ),
    "execution_extra_fields": ReadingPoint(
        "5", 'execution records also carry `"durationMs"` and `"error": null`', "Responses may carry extra fields"
    ),
    "event_extra_fields": ReadingPoint(
        "7", 'events also carry `"leadId"` and `"error": null`', "Responses may carry extra fields"
    ),
    "empty_filter_ignored": ReadingPoint(
        "7",
        "an empty `type=` or `nextActionId=` is no filter (default: matches nothing)",
        "both filters optional (an empty value is not described)",
    ),
    "retry_stub_nulls": ReadingPoint(
        "7",
        "`nba.delivery.retry_job.stub` carries `actionKey` null",
        "`actionKey` and `executionId` may be null on `nba.delivery.retry_job.stub`",
    ),
    # --- 8. Background jobs -------------------------------------------------------------
    "cron_skipped_null": ReadingPoint(
        "8",
        'a run that processed answers `"skipped": null` too; a skipped one `"processed": null`',
        'a run was skipped exactly when `skipped` is `"locked"`; v1.1',
    ),
    # --- 9. UI ----------------------------------------------------------------------------
    "ui_server_rendered": ReadingPoint(
        "9",
        "`/next-actions` and `/leads/{id}` are rendered on the server (default: by script after a fetch)",
        "Located the way a person finds them: by role and accessible name.",
    ),
    "ui_aria_markup": ReadingPoint(
        "9",
        "lists are `<div role=list>` named by `aria-labelledby` of a heading, items `<div role=listitem>`",
        'a list named "Next actions" (its accessible name)',
    ),
    "ui_extra_list": ReadingPoint(
        "9",
        'the page also holds a "Recently done" list with the titles of done items, and a "Refresh" button',
        "The page may hold other controls and lists.",
    ),
    "ui_nav_links": ReadingPoint(
        "9",
        'every page has a navigation with links "Next actions" and "Sign in"/"Sign out"',
        "The page may hold other controls and lists.",
    ),
    "ui_button_order": ReadingPoint(
        "9", "the action buttons come in reverse order", "one button per action, named by the labels"
    ),
    "ui_toast_disappears": ReadingPoint(
        "9",
        "the status and alert messages clear themselves after 4 seconds",
        'Success shows a `status` region whose text contains "succeeded"',
    ),
    "ui_message_wording": ReadingPoint(
        "9",
        'messages read "Action succeeded: <label>" / "Action failed: <label>"',
        'whose text contains "succeeded" ... whose text contains "failed"',
    ),
    "ui_rerender_list": ReadingPoint(
        "9",
        "after every action the whole list is fetched and rendered again (new elements)",
        "A done or snoozed item is gone from the list once the page reloads (sooner is fine).",
    ),
    "ui_form_post_login": ReadingPoint(
        "9",
        "the login form posts as an HTML form to `POST /login` (no script); failure re-renders with an alert",
        '`/login`: fields labelled "Email" and "Password", a button "Sign in".',
    ),
    "ui_login_next": ReadingPoint(
        "9",
        "pages redirect to `/login?next=<path>` (307) and a sign-in goes back there",
        "`/next-actions` without a session redirects to `/login`.",
    ),
    "ui_score_suffix": ReadingPoint("9", 'the lead page reads "Score: <n> of 100"', 'the text "Score: <n>"'),
}

_active: ContextVar[str] = ContextVar("refapp_reading", default=DEFAULT)


def validate(value: str) -> str:
    """The reading named by REFAPP_READINGS; raises ValueError naming the valid ones."""
    if value not in READINGS:
        raise ValueError(f"unknown REFAPP_READINGS value {value!r}; valid readings: {', '.join(READINGS)}")
    return value


def other(point: str) -> bool:
    """Whether the request being served takes the other reading at `point`."""
    if point not in READING_POINTS:
        raise ValueError(f"unknown reading point {point!r}")
    return _active.get() == OTHER


@contextmanager
def active(reading: str) -> Iterator[None]:
    """Make `reading` active for the block (start-up seeding, tests)."""
    token = _active.set(validate(reading))
    try:
        yield
    finally:
        _active.reset(token)


class ReadingMiddleware:
    """Makes the app's reading active for each request it serves."""

    def __init__(self, app: ASGIApp, reading: str) -> None:
        self.app = app
        self.reading = validate(reading)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = _active.set(self.reading)
        try:
            await self.app(scope, receive, send)
        finally:
            _active.reset(token)
