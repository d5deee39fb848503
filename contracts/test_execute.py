"""Section 6: POST /api/next-actions/{id}/execute: validation, order of checks, effects, audit trail."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from contracts import api as c

pytestmark = pytest.mark.mutating

UNKNOWN_ID = "contract-no-such-id"
JSON = {"Content-Type": "application/json"}

INVALID_BODY: dict[str, bytes] = {
    "empty": b"",
    "not-json": b"{actionKey",
    "array": b'["mark_done"]',
    "string": b'"mark_done"',
    "number": b"1",
    "null": b"null",
    "true": b"true",
}
INVALID_ACTION_KEY: dict[str, bytes] = {
    "missing": b"{}",
    "null": b'{"actionKey": null}',
    "number": b'{"actionKey": 1}',
    "array": b'{"actionKey": ["mark_done"]}',
    "object": b'{"actionKey": {"key": "mark_done"}}',
    "unknown": b'{"actionKey": "bogus_action"}',
    "other-case": b'{"actionKey": "MARK_DONE"}',
    "empty": b'{"actionKey": ""}',
    "other-field-only": b'{"action": "mark_done"}',
}


def _assert_ran_nothing(user: c.User, nba_id: str) -> None:
    nba = user.nba(nba_id)
    assert nba["lastExecutedAt"] is None and nba["status"] == "queued", (
        f"a request answered before step 6 must run nothing; the next action is now {nba!r}"
    )
    assert user.executions(nba_id) == [], "a request answered before step 6 creates no Execution"


# --------------------------------------------------------------------------- 400s


@pytest.mark.parametrize("case", list(INVALID_BODY), ids=list(INVALID_BODY))
def test_bad_body_is_invalid_body(isolated: c.User, case: str) -> None:
    nba_id = isolated.fixture.next_actions[0].id
    response = isolated.execute(nba_id, content=INVALID_BODY[case], headers=JSON)
    c.assert_error(response, 400, "invalid_body", secrets=isolated.secrets)
    _assert_ran_nothing(isolated, nba_id)


@pytest.mark.parametrize("case", list(INVALID_ACTION_KEY), ids=list(INVALID_ACTION_KEY))
def test_bad_action_key_is_invalid_action_key(isolated: c.User, case: str) -> None:
    nba_id = isolated.fixture.next_actions[0].id
    response = isolated.execute(nba_id, content=INVALID_ACTION_KEY[case], headers=JSON)
    c.assert_error(response, 400, "invalid_action_key", secrets=isolated.secrets)
    _assert_ran_nothing(isolated, nba_id)


# --------------------------------------------------------------------------- order of checks


@pytest.mark.parametrize("body", [b"", b"[]", b'{"actionKey": "bogus"}'], ids=["empty", "array", "bad-key"])
@pytest.mark.parametrize("nba_id", [UNKNOWN_ID], ids=["unknown-id"])
def test_auth_is_checked_before_the_body_and_the_id(api: httpx.Client, body: bytes, nba_id: str) -> None:
    response = api.post(c.execute_path(nba_id), content=body, headers=JSON)
    c.assert_error(response, 401, "unauthorized")


def test_auth_is_checked_before_the_body_on_a_real_id(api: httpx.Client, fresh: c.User) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    response = api.post(c.execute_path(nba_id), content=b"[]", headers=JSON)
    c.assert_error(response, 401, "unauthorized")


def test_body_is_checked_before_the_id(isolated: c.User) -> None:
    response = isolated.execute(UNKNOWN_ID, content=b"", headers=JSON)
    c.assert_error(response, 400, "invalid_body", secrets=isolated.secrets)
    response = isolated.execute(UNKNOWN_ID, "bogus_action")
    c.assert_error(response, 400, "invalid_action_key", secrets=isolated.secrets)


def test_body_is_checked_before_another_users_id(isolated: c.User, second_user: c.User) -> None:
    other = second_user.fixture.next_actions[0].id
    response = isolated.execute(other, "bogus_action")
    c.assert_error(response, 400, "invalid_action_key", secrets=isolated.secrets)


def test_unknown_id_is_not_found(isolated: c.User) -> None:
    c.assert_error(isolated.execute(UNKNOWN_ID, "mark_done"), 404, "not_found")


# --------------------------------------------------------------------------- 200 and effects


def _run(user: c.User, nba_id: str, action_key: str) -> tuple[httpx.Response, dict[str, Any]]:
    response = user.execute(nba_id, action_key)
    body = c.expect_status(response, 200, f"executing {action_key} on the caller's own item")
    assert body.get("ok") is True and isinstance(body.get("executionId"), str), (
        f'success answers {{"ok": true, "executionId": "<id>"}} (section 6); got {c.describe(response)}'
    )
    if action_key == "retry_failed_deliveries":
        assert body.get("stubbed") is True, (
            f'retry_failed_deliveries answers "stubbed": true (section 6); got {c.describe(response)}'
        )
    return response, body


def _assert_audit_trail(
    user: c.User, nba_id: str, execution_id: str, response: httpx.Response, status: str
) -> dict[str, Any]:
    """Exactly one Execution for the run, and the NBA's last* fields describe it."""
    now = c.server_now(response)
    records = [r for r in user.executions(nba_id) if r["id"] == execution_id]
    assert len(records) == 1, f"exactly one Execution exists for execution {execution_id} (section 6); got {records!r}"
    record = records[0]
    assert record["status"] == status, f"the Execution's status must be {status!r}; got {record!r}"
    started, finished = c.parse_time(record["startedAt"]), c.parse_time(record["finishedAt"])
    c.assert_near(started, now, c.CLOCK_SLACK, "Execution.startedAt vs the answer's Date")
    c.assert_near(finished, now, c.CLOCK_SLACK, "Execution.finishedAt vs the answer's Date")
    nba = user.nba(nba_id)
    last = c.parse_time(nba["lastExecutedAt"], "lastExecutedAt")
    assert started <= last <= finished, (
        f"lastExecutedAt lies within [startedAt, finishedAt] of its Execution (section 6); "
        f"got {nba['lastExecutedAt']} vs {record['startedAt']}..{record['finishedAt']}"
    )
    assert nba["lastExecutionStatus"] == status, f"lastExecutionStatus must be {status!r}; got {nba!r}"
    assert nba["lastExecutionErrorCode"] == record["errorCode"], (
        f"lastExecutionErrorCode describes the last Execution; NBA {nba!r} vs record {record!r}"
    )
    if status == "success":
        assert nba["lastExecutionErrorCode"] is None and nba["lastExecutionErrorMessage"] is None, (
            f"a successful last execution has no error; got {nba!r}"
        )
    return record


# Each action's success answer and audit trail are checked by a test of its effects: on the shared
# account every request spends the one budget, and every item used up (mark_done, snooze_1d)
# costs a run of run_next_actions to replace.
def test_retry_failed_deliveries_is_a_stub_with_its_event(fresh: c.User) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    _run_with_audit_trail(fresh, nba_id, "retry_failed_deliveries")
    events = fresh.events(nextActionId=nba_id)
    stubbed = [e for e in events if e["type"] == "nba.delivery.stubbed"]
    assert len(stubbed) >= 1, f"the stub action emits nba.delivery.stubbed (section 6); got {events!r}"
    assert not [e for e in events if e["type"] == "nba.delivery.failed"], (
        f"a successful stub emits no nba.delivery.failed; got {events!r}"
    )


def _run_with_audit_trail(user: c.User, nba_id: str, action_key: str) -> httpx.Response:
    """Run `action_key`: a success answer, exactly one Execution for it, and the last* fields."""
    response, body = _run(user, nba_id, action_key)
    _assert_success_recorded(user, nba_id, action_key, response, body)
    return response


def _assert_success_recorded(
    user: c.User, nba_id: str, action_key: str, response: httpx.Response, body: dict[str, Any]
) -> None:
    record = _assert_audit_trail(user, nba_id, body["executionId"], response, "success")
    assert record["actionKey"] == action_key, f"the Execution records its actionKey; got {record!r}"


@pytest.mark.shared_items(1, spends=1)
def test_mark_done_makes_the_item_done_and_again_leaves_it_done(fresh: c.User) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    _run_with_audit_trail(fresh, nba_id, "mark_done")
    assert fresh.nba(nba_id)["status"] == "done", "mark_done: status becomes done (section 6)"
    for status in (None, "queued"):
        assert nba_id not in {i["id"] for i in fresh.list_items(status)}, (
            f"a done item leaves the queued list ({'no status' if status is None else 'status=queued'}, section 5)"
        )
    done = {i["id"]: i for i in fresh.list_items("done")}
    assert nba_id in done and done[nba_id]["status"] == "done", "a done item is in the done list (section 5)"

    _run_with_audit_trail(fresh, nba_id, "mark_done")
    assert fresh.nba(nba_id)["status"] == "done", "mark_done on a done item: its status stays done (section 6)"
    assert nba_id in {i["id"] for i in fresh.list_items("done")}, "a done item stays in the done list"


@pytest.mark.shared_items(1, spends=1)
def test_snooze_1d_snoozes_for_24_hours_from_each_request(fresh: c.User) -> None:
    """snoozedUntil is now + 24 h; a second snooze is now + 24 h again, not 24 h after the first ends."""
    nba_id = fresh.fixture.next_actions[0].id
    for run in ("snooze_1d", "a second snooze_1d"):
        response = _run_with_audit_trail(fresh, nba_id, "snooze_1d")
        until = c.parse_time(fresh.nba(nba_id)["snoozedUntil"], "snoozedUntil")
        c.assert_near(
            until,
            c.server_now(response) + timedelta(hours=24),
            timedelta(minutes=5),
            f"{run}: snoozedUntil = the time of that request + 24 h within 5 min (section 6)",
        )
        assert nba_id not in {i["id"] for i in fresh.list_items("queued")}, (
            f"{run}: the item is hidden from the queued list (section 6)"
        )


LEAD_TIMES = [("recompute_score", "scoreUpdatedAt"), ("run_risk_rules", "riskEvaluatedAt")]


def _assert_lead_time_moved(
    user: c.User, response: httpx.Response, action_key: str, field: str, *, again: bool = False
) -> None:
    """After the run answered `response`, the lead's `field` is the time of that request, by the server's Date."""
    lead = user.lead(user.fixture.lead_id)
    c.assert_near(
        c.parse_time(lead[field], field),
        c.server_now(response),
        c.CLOCK_SLACK,
        f"{action_key}{' run again' if again else ''}: the lead's {field} moves to the time of that request "
        "(section 6)",
    )


def test_two_runs_move_the_lead_times_and_are_listed_newest_first(fresh: c.User) -> None:
    """recompute_score, then run_risk_rules, on one item: each answers success, leaves its audit
    trail and moves its lead time to the time of its request (section 6), and the item's
    executions list them newest first, one per run (section 5)."""
    nba_id = fresh.fixture.next_actions[0].id
    before = len(fresh.executions(nba_id))
    runs: list[str] = []
    for action_key, field in LEAD_TIMES:
        response, body = _run(fresh, nba_id, action_key)
        _assert_lead_time_moved(fresh, response, action_key, field)
        _assert_success_recorded(fresh, nba_id, action_key, response, body)
        runs.insert(0, body["executionId"])
    ids = [r["id"] for r in fresh.executions(nba_id)]
    assert ids[:2] == runs and len(ids) == before + 2, (
        f"executions are listed newest first, one per run (section 5); got {ids!r}, expected {runs!r} first"
    )


#: How far apart (by the server's Date) the two runs of the slow test are: more than the 5 s
#: either way allowed around each, plus a second for the Date header's whole seconds.
RERUN_GAP = timedelta(seconds=7)


@pytest.mark.slow(seconds=8)
def test_lead_times_move_on_every_run(fresh: c.User) -> None:
    """recompute_score and run_risk_rules move the lead's times on a later run too, not only the first.

    Costs about 8 s: the second run must come more than 5 s (the allowed slack) after the first
    by the server's Date, or a time left at the first run could not be told apart.
    """
    nba_id = fresh.fixture.next_actions[0].id
    first, _ = _run(fresh, nba_id, "recompute_score")
    _run(fresh, nba_id, "run_risk_rules")
    start = c.server_now(first)
    # Wait by the server's clock (its Date header), bounded.
    for _ in range(20):
        probe = fresh.get(c.nba_path(nba_id))
        if c.server_now(probe) - start >= RERUN_GAP:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the server's Date did not advance {RERUN_GAP.total_seconds():g} s in about 10 s")
    for action_key, field in LEAD_TIMES:
        response, _ = _run(fresh, nba_id, action_key)
        _assert_lead_time_moved(fresh, response, action_key, field, again=True)


@pytest.mark.shared_items(1, whole_lead=True)
def test_run_next_actions_leaves_a_queued_item_and_keeps_this_one(fresh: c.User) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    c.expect_status(fresh.execute(nba_id, "mark_done"), 200)
    # Leave nothing else queued on the lead (not on a shared account: its items are not ours).
    for ref in fresh.fixture.next_actions[1:] if fresh.isolated else ():
        c.expect_status(fresh.execute(ref.id, "snooze_1d"), 200)
    _run_with_audit_trail(fresh, nba_id, "run_next_actions")
    fresh.nba(nba_id)  # stays readable by id
    lead_id = fresh.fixture.lead_id
    queued = [i for i in fresh.list_items("queued") if i["leadId"] == lead_id]
    assert queued, (
        "run_next_actions: afterwards the lead has at least one queued, unsnoozed next action "
        "(section 6); the queued list has none for the lead"
    )


# --------------------------------------------------------------------------- the failure path

SEQUENCES = {
    "failure-then-success": ("failed", "success"),
    "success-then-failure": ("success", "failed"),
}
FAILING_KEY, SUCCEEDING_KEY = "recompute_score", "run_risk_rules"


@pytest.mark.parametrize("sequence", list(SEQUENCES), ids=list(SEQUENCES))
def test_audit_trail_across_a_sequence(make_user: c.MakeUser, sequence: str) -> None:
    """Each run of a sequence on one item adds exactly one Execution, and the last* fields follow the last run."""
    user = make_user(next_actions=1, failing_actions=[FAILING_KEY])
    nba_id = user.fixture.next_actions[0].id
    seen: list[str] = []
    for status in SEQUENCES[sequence]:
        if status == "success":
            response, body = _run(user, nba_id, SUCCEEDING_KEY)
            execution_id = body["executionId"]
        else:
            response = user.execute(nba_id, FAILING_KEY)
            execution_id = c.assert_error(response, 500, "execution_failed", secrets=user.secrets).get("executionId")
            assert isinstance(execution_id, str), f"a 500 execution_failed carries executionId; {c.describe(response)}"
        record = _assert_audit_trail(user, nba_id, execution_id, response, status)
        if status == "failed":
            assert record["errorCode"], f"a failed Execution has a non-null errorCode (section 6); got {record!r}"
        seen.insert(0, execution_id)
        ids = [r["id"] for r in user.executions(nba_id)]
        assert ids == seen, (
            f"after {len(seen)} run(s) ({sequence}), exactly one Execution per run, newest first "
            f"(sections 5 and 6); expected {seen!r}, got {ids!r}"
        )


def _all_text(user: c.User, nba_id: str) -> str:
    """Everything the user can read about the item: NBA, executions, lead, lists, ops events."""
    paths = [
        c.nba_path(nba_id),
        c.nba_path(nba_id) + "/executions",
        f"/api/leads/{user.fixture.lead_id}",
        f"{c.NEXT_ACTIONS_PATH}?status=queued",
        f"{c.NEXT_ACTIONS_PATH}?status=done",
        c.EVENTS_PATH,
    ]
    return "\n".join(user.get(p).text for p in paths)


def test_failing_action_answers_500_and_records_the_failure(make_user: c.MakeUser) -> None:
    user = make_user(failing_actions=["recompute_score"])
    nba_id = user.fixture.next_actions[0].id
    response = user.execute(nba_id, "recompute_score")
    error = c.assert_error(response, 500, "execution_failed", secrets=user.secrets)
    execution_id = error.get("executionId")
    assert isinstance(execution_id, str) and execution_id, (
        f'a 500 execution_failed carries "executionId" in "error" (section 6); got {c.describe(response)}'
    )
    record = _assert_audit_trail(user, nba_id, execution_id, response, "failed")
    assert isinstance(record["errorCode"], str) and record["errorCode"], (
        f"a failed Execution has a non-null errorCode (section 6); got {record!r}"
    )
    message = record["errorMessage"]
    if message is not None:
        leaks = c.find_leaks(message, user.secrets)
        assert not leaks, f"a failed Execution's errorMessage is sanitized; found {leaks} in {message!r}"
    nba = user.nba(nba_id)
    assert nba["lastExecutionErrorCode"], f"lastExecutionErrorCode must be set after a failure; {nba!r}"
    if nba["lastExecutionErrorMessage"] is not None:
        leaks = c.find_leaks(nba["lastExecutionErrorMessage"], user.secrets)
        assert not leaks, f"lastExecutionErrorMessage must be sanitized; found {leaks} in {nba!r}"
    events = [e for e in user.events(nextActionId=nba_id) if e.get("executionId") == execution_id]
    types = sorted(e["type"] for e in events)
    assert types.count("nba.delivery.failed") == 1 and "nba.delivery.executed" not in types, (
        f"a failed execution emits exactly one nba.delivery.failed and no executed; got {types!r}"
    )
    c.assert_no_secret(_all_text(user, nba_id), user.secrets, "any response, record or event")


def test_non_failing_actions_of_a_failing_fixture_succeed(make_user: c.MakeUser) -> None:
    user = make_user(failing_actions=["recompute_score"])
    nba_id = user.fixture.next_actions[0].id
    _run(user, nba_id, "run_risk_rules")
