"""Sections 6 and 7: ops events of executions, their filters and what they never carry."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contracts import api as c
from safety.skips import SkipCategory, skip_for_setup

pytestmark = pytest.mark.mutating

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
EVENT_SAMPLE = 10
EXECUTED, FAILED, STUBBED = "nba.delivery.executed", "nba.delivery.failed", "nba.delivery.stubbed"


@pytest.fixture
def history(make_user: c.MakeUser) -> tuple[c.User, dict[str, Any]]:
    """A user with one success, one failure and one stub execution, each on its own item."""
    user = make_user(next_actions=3, failing_actions=["run_risk_rules"])
    ok_id, fail_id, stub_id = (n.id for n in user.fixture.next_actions)
    ok = user.execute(ok_id, "recompute_score")
    fail = user.execute(fail_id, "run_risk_rules")
    stub = user.execute(stub_id, "retry_failed_deliveries")
    c.expect_status(ok, 200)
    c.expect_status(stub, 200)
    fail_error = c.assert_error(fail, 500, "execution_failed", secrets=user.secrets)
    return user, {
        "ok": (ok_id, c.json_body(ok)["executionId"], ok),
        "fail": (fail_id, fail_error["executionId"], fail),
        "stub": (stub_id, c.json_body(stub)["executionId"], stub),
    }


def test_each_execution_emits_its_event(history: tuple[c.User, dict[str, Any]]) -> None:
    user, runs = history
    events = user.events()
    for name, expected_type, action_key in (
        ("ok", EXECUTED, "recompute_score"),
        ("fail", FAILED, "run_risk_rules"),
        ("stub", STUBBED, "retry_failed_deliveries"),
    ):
        nba_id, execution_id, response = runs[name]
        mine = [e for e in events if e["nextActionId"] == nba_id and e["type"] == expected_type]
        assert mine, f"a {name} execution emits {expected_type} for its nextActionId; got {events!r}"
        c.assert_near(
            c.parse_time(mine[0]["at"]),
            c.server_now(response),
            c.CLOCK_SLACK,
            f"{expected_type}.at vs the Date of the execute answer",
        )
        if expected_type != STUBBED:
            assert mine[0]["executionId"] == execution_id and mine[0]["actionKey"] == action_key, (
                f"{expected_type} names its executionId and actionKey; got {mine[0]!r}"
            )


def test_exactly_one_executed_or_failed_per_execution(history: tuple[c.User, dict[str, Any]]) -> None:
    user, runs = history
    events = user.events()
    for name in ("ok", "fail"):
        nba_id, execution_id, _ = runs[name]
        outcome = [
            e
            for e in events
            if e["type"] in (EXECUTED, FAILED) and (e["executionId"] == execution_id or e["nextActionId"] == nba_id)
        ]
        assert len(outcome) == 1, (
            f"exactly one of nba.delivery.executed or .failed per execution (section 6); "
            f"the {name} execution {execution_id} has {outcome!r}"
        )
    stub_id, _, _ = runs["stub"]
    assert not [e for e in events if e["nextActionId"] == stub_id and e["type"] == FAILED]


def test_filters_by_type_and_next_action(history: tuple[c.User, dict[str, Any]]) -> None:
    user, runs = history
    for event_type in (EXECUTED, FAILED, STUBBED):
        items = user.events(type=event_type)
        assert items, f"type={event_type} lists the user's {event_type} events"
        assert all(e["type"] == event_type for e in items), (
            f"type={event_type} filters by type (section 7); got {items!r}"
        )
    for nba_id, _, _ in runs.values():
        items = user.events(nextActionId=nba_id)
        assert items and all(e["nextActionId"] == nba_id for e in items), (
            f"nextActionId={nba_id} filters by next action (section 7); got {items!r}"
        )
    ok_id = runs["ok"][0]
    both = user.events(type=EXECUTED, nextActionId=ok_id)
    assert both and all(e["type"] == EXECUTED and e["nextActionId"] == ok_id for e in both)
    assert user.events(type=FAILED, nextActionId=ok_id) == [], "both filters apply together"


def test_unknown_type_gives_an_empty_list(history: tuple[c.User, dict[str, Any]]) -> None:
    user, _ = history
    assert user.events(type="nba.no.such.type") == [], "an unknown type gives an empty list"


@pytest.fixture
def events_of_someone(request: pytest.FixtureRequest, fixtures_enabled: bool) -> set[str]:
    """The next-action ids of another user's ops events: the `history` user's where fixtures make
    one, else those the shared E2E_EMAIL account already has (the run never executes for this)."""
    if fixtures_enabled:
        _, runs = request.getfixturevalue("history")
        return {nba_id for nba_id, _, _ in runs.values()}
    owner: c.User = request.getfixturevalue("shared_account_user")
    ids = {str(e["nextActionId"]) for e in owner.events()}
    if not ids:
        skip_for_setup(
            SkipCategory.SHARED_ACCOUNT_STATE,
            f"the shared account {owner.email} has no ops events yet, so there is nothing another user could "
            "see: run the suite again (its execute tests leave events), or enable POST /api/e2e/fixtures",
        )
    return ids


def test_another_users_events_are_invisible(events_of_someone: set[str], second_user: c.User) -> None:
    # A bounded sample: a long-lived shared account may have events of many items.
    for nba_id in sorted(events_of_someone)[:EVENT_SAMPLE]:
        assert second_user.events(nextActionId=nba_id) == [], (
            "another user's nextActionId gives an empty list (section 7)"
        )
    assert not [e for e in second_user.events() if e["nextActionId"] in events_of_someone], (
        "GET /api/ops/events lists the caller's events only (section 7)"
    )


def test_events_are_newest_first(make_user: c.MakeUser) -> None:
    user = make_user(next_actions=1)
    nba_id = user.fixture.next_actions[0].id
    first = c.json_body(user.execute(nba_id, "recompute_score"))["executionId"]
    second = c.json_body(user.execute(nba_id, "run_risk_rules"))["executionId"]
    items = [e for e in user.events(nextActionId=nba_id, type=EXECUTED)]
    ids = [e["executionId"] for e in items]
    assert ids == [second, first], f"ops events are listed newest first (section 7); got {ids!r}"
    times = [c.parse_time(e["at"]) for e in user.events()]
    assert times == sorted(times, reverse=True), "ops events are listed newest first (section 7)"


def test_events_carry_no_credentials_or_secrets(
    history: tuple[c.User, dict[str, Any]], cron_secret_or_none: str | None
) -> None:
    user, _ = history
    response = user.get(c.EVENTS_PATH)
    c.expect_status(response, 200)
    secrets = [user.email, user.password, user.token, c.FIXTURE_SECRET]
    if cron_secret_or_none:
        secrets.append(cron_secret_or_none)
    leaked = [s[:6] + "..." for s in secrets if s in response.text]
    assert not leaked, f"events never carry an email, a password, a token or a secret (section 7); found {leaked}"
    emails = EMAIL.findall(response.text)
    assert not emails, f"events never carry an email address (section 7); found {emails[:3]!r}"
