"""Section 5: the next-action, execution and lead read routes."""

from __future__ import annotations

import pytest

from contracts import api as c
from safety.skips import SkipCategory, skip_for_setup

pytestmark = pytest.mark.mutating

UNKNOWN_ID = "contract-no-such-id"


def test_queued_list_is_the_default_and_holds_queued_unsnoozed_items(reader: c.User) -> None:
    default = {i["id"]: i for i in reader.list_items()}
    queued = {i["id"]: i for i in reader.list_items("queued")}
    assert set(default) == set(queued), (
        f"no status means status=queued (section 5); ids {sorted(default)} vs {sorted(queued)}"
    )
    for ref in reader.fixture.next_actions if reader.isolated else ():
        assert ref.id in queued, f"queued next action {ref.id} ({ref.title!r}) must be listed"
    for item in queued.values():
        assert item["status"] == "queued", f"the queued list holds only queued items; got {item!r}"


@pytest.mark.parametrize("value", ["", "QUEUED", "Done", "bogus", "queued,done", " queued"])
def test_other_status_values_are_invalid_query(reader: c.User, value: str) -> None:
    response = reader.get(c.NEXT_ACTIONS_PATH, params={"status": value})
    c.assert_error(response, 400, "invalid_query", secrets=reader.secrets)


def test_next_action_by_id(reader: c.User) -> None:
    ref = reader.fixture.next_actions[0]
    nba = reader.nba(ref.id)
    assert nba["id"] == ref.id and nba["title"] == ref.title, f"got {nba!r} for {ref!r}"
    assert nba["leadId"] == reader.fixture.lead_id


@pytest.mark.shared_items(1, unexecuted=True)
def test_executions_of_an_unexecuted_item_are_empty(fresh: c.User) -> None:
    # `fresh`, not the read-only `reader`: on the shared account the item is held, so no other
    # test runs an action on it between the two reads.
    ref = fresh.fixture.next_actions[0]
    if fresh.nba(ref.id)["lastExecutedAt"] is not None:
        skip_for_setup(
            SkipCategory.SHARED_ACCOUNT_STATE,
            "the shared E2E_EMAIL account's next action was already executed: this check needs one never "
            "executed (add a queued next action on the target, or enable POST /api/e2e/fixtures)",
        )
    assert fresh.executions(ref.id) == [], "a next action never executed has no Execution"


@pytest.mark.shared_items(2)
def test_executions_list_holds_only_this_items_runs(fresh: c.User) -> None:
    ran, other = c.need(fresh, 2)
    body = c.expect_status(fresh.execute(ran.id, "run_risk_rules"), 200, "run_risk_rules on a queued item")
    execution_id = body.get("executionId")
    assert execution_id in {e["id"] for e in fresh.executions(ran.id)}, (
        f"the execution {execution_id} is listed under its next action {ran.id} (section 5)"
    )
    assert execution_id not in {e["id"] for e in fresh.executions(other.id)}, (
        f"the execution {execution_id} of {ran.id} must not be listed under another next action {other.id}"
    )


def test_lead_by_id(reader: c.User) -> None:
    lead = reader.lead(reader.fixture.lead_id)
    assert lead["id"] == reader.fixture.lead_id


@pytest.mark.parametrize(
    "path",
    [c.nba_path(UNKNOWN_ID), c.nba_path(UNKNOWN_ID) + "/executions", f"/api/leads/{UNKNOWN_ID}"],
    ids=["next-action", "executions", "lead"],
)
def test_unknown_id_is_not_found(reader: c.User, path: str) -> None:
    c.assert_error(reader.get(path), 404, "not_found", secrets=reader.secrets)


def _queued_ids(user: c.User) -> set[str]:
    """Ids in the queued list, asked for both ways: without `status` and with `status=queued`."""
    return {i["id"] for i in user.list_items()} | {i["id"] for i in user.list_items("queued")}


# One item snoozed, then done: on the shared account every item used up costs a run of
# run_next_actions (and so the budget) to replace. A done item that was never snoozed is
# checked in the done list by test_execute.py's mark_done test.
@pytest.mark.shared_items(1, spends=1)
def test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it(fresh: c.User) -> None:
    ref = fresh.fixture.next_actions[0]
    c.expect_status(fresh.execute(ref.id, "snooze_1d"), 200)
    assert ref.id not in _queued_ids(fresh), "a snoozed next action is hidden from the queued list (section 5)"
    nba = fresh.nba(ref.id)
    assert nba["status"] == "queued" and nba["snoozedUntil"] is not None, (
        f"a snoozed next action stays readable by id, queued with snoozedUntil set; got {nba!r}"
    )
    others = {n.id for n in fresh.fixture.next_actions[1:]}
    assert others <= {i["id"] for i in fresh.list_items()}, "unsnoozed items stay listed"

    c.expect_status(fresh.execute(ref.id, "mark_done"), 200)
    done = {i["id"]: i for i in fresh.list_items("done")}
    assert ref.id in done, f"status=done lists done items, snoozed or not (section 5): {ref.id} is snoozed"
    for item in done.values():
        assert item["status"] == "done", f"the done list holds only done items; got {item!r}"
    assert ref.id not in _queued_ids(fresh), "a done item is not in the queued list, nor in the default one"
