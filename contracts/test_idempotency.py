"""Section 6: the Idempotency-Key header of the execute route."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from contracts import api as c

pytestmark = pytest.mark.mutating

UNKNOWN_ID = "contract-no-such-id"
REPLAYED = "idempotent-replayed"


def _is_replay(response: httpx.Response) -> bool:
    value: str = response.headers.get(REPLAYED, "")
    return value.strip().lower() == "true"


def _first(user: c.User, nba_id: str, action_key: str, key: str) -> tuple[httpx.Response, Any]:
    # What a first answer carries in Idempotent-Replayed is free (v1.1): not checked.
    response = user.execute(nba_id, action_key, idempotency_key=key)
    return response, c.json_body(response)


def _ids(user: c.User, nba_id: str) -> list[str]:
    return [r["id"] for r in user.executions(nba_id)]


def _new_ids(user: c.User, nba_id: str, before: list[str]) -> list[str]:
    """Execution ids added since `before` (a shared account's item may have older ones)."""
    return [i for i in _ids(user, nba_id) if i not in before]


def _assert_replay(first: httpx.Response, replay: httpx.Response) -> None:
    assert replay.status_code == first.status_code, (
        f"a replay answers the same status as the first request (section 6): first "
        f"{c.describe(first)}, replay {c.describe(replay)}"
    )
    assert c.json_body(replay) == c.json_body(first), (
        f"a replay answers the same body (same executionId) as the first request (section 6): "
        f"first {c.describe(first)}, replay {c.describe(replay)}"
    )
    assert _is_replay(replay), (
        f"a replay carries the header Idempotent-Replayed: true (section 6); got headers "
        f"{dict(replay.headers)!r} on {c.describe(replay)}"
    )


def _long_key(idem_key: Callable[[], str], length: int) -> str:
    """A key of exactly `length` characters, unique to this run (it starts with `idem_key()`)."""
    key = (idem_key() + c.uuid_hex() * 8)[:length]
    assert len(key) == length
    return key


def test_replay_answers_the_same_and_runs_nothing(fresh: c.User, idem_key: Callable[[], str]) -> None:
    """A replay under a 255-character key: the longest a server must accept (section 6) is a key like any other."""
    nba_id, key = fresh.fixture.next_actions[0].id, _long_key(idem_key, 255)
    before = _ids(fresh, nba_id)
    first, body = _first(fresh, nba_id, "recompute_score", key)
    c.expect_status(first, 200, "a 255-character Idempotency-Key must be accepted (section 6)")
    lead_before = fresh.lead(fresh.fixture.lead_id)["scoreUpdatedAt"]
    nba_before = fresh.nba(nba_id)
    replay = fresh.execute(nba_id, "recompute_score", idempotency_key=key)
    _assert_replay(first, replay)
    new = _new_ids(fresh, nba_id, before)
    assert new == [body["executionId"]], f"a replay adds no Execution record (section 6); new records: {new!r}"
    assert fresh.lead(fresh.fixture.lead_id)["scoreUpdatedAt"] == lead_before, "a replay runs nothing"
    assert fresh.nba(nba_id)["lastExecutedAt"] == nba_before["lastExecutedAt"], "a replay runs nothing"


def test_a_500_is_replayed_too(make_user: c.MakeUser, idem_key: Callable[[], str]) -> None:
    user = make_user(failing_actions=["run_risk_rules"])
    nba_id, key = user.fixture.next_actions[0].id, idem_key()
    first, _ = _first(user, nba_id, "run_risk_rules", key)
    error = c.assert_error(first, 500, "execution_failed", secrets=user.secrets)
    replay = user.execute(nba_id, "run_risk_rules", idempotency_key=key)
    _assert_replay(first, replay)
    records = user.executions(nba_id)
    assert [r["id"] for r in records] == [error["executionId"]], (
        f"a replayed 500 adds no Execution record (section 6); got {records!r}"
    )


#: A used key sent with another id, another actionKey, or both: each is "K reused" (section 6).
REUSES = (
    ("another id", 1, "recompute_score"),
    ("another actionKey", 0, "run_risk_rules"),
    ("both", 1, "run_risk_rules"),
)


@pytest.mark.shared_items(2)
def test_key_reused_differently_is_422(fresh: c.User, idem_key: Callable[[], str]) -> None:
    # One used key, reused three ways: one request to use it, not three (each request spends the
    # shared account's budget).
    refs = c.need(fresh, 2)
    key = idem_key()
    before = {ref.id: _ids(fresh, ref.id) for ref in refs}
    c.expect_status(_first(fresh, refs[0].id, "recompute_score", key)[0], 200)
    for change, index, action_key in REUSES:
        response = fresh.execute(refs[index].id, action_key, idempotency_key=key)
        assert response.status_code == 422, (
            f"a key reused with {change} answers 422 idempotency_key_reused (section 6); got {c.describe(response)}"
        )
        c.assert_error(response, 422, "idempotency_key_reused", secrets=fresh.secrets)
    assert len(_new_ids(fresh, refs[0].id, before[refs[0].id])) == 1, "a 422 runs nothing"
    assert _new_ids(fresh, refs[1].id, before[refs[1].id]) == [], "a 422 runs nothing"


def test_keys_are_per_user(isolated: c.User, second_user: c.User, idem_key: Callable[[], str]) -> None:
    key = idem_key()
    mine, my_body = _first(isolated, isolated.fixture.next_actions[0].id, "mark_done", key)
    theirs, their_body = _first(second_user, second_user.fixture.next_actions[0].id, "mark_done", key)
    c.expect_status(mine, 200)
    c.expect_status(theirs, 200, "the same key from another user is another key (section 6)")
    assert my_body["executionId"] != their_body["executionId"], "two users' keys are two executions"
    assert second_user.nba(second_user.fixture.next_actions[0].id)["status"] == "done"


def _answered_before_step_5(user: c.User, api: httpx.Client, nba_id: str, key: str, how: str) -> None:
    headers = {"Idempotency-Key": key}
    if how == "unauthenticated":
        response = api.post(c.execute_path(nba_id), json={"actionKey": "mark_done"}, headers=headers)
        c.assert_error(response, 401, "unauthorized")
    elif how == "invalid-body":
        response = user.execute(nba_id, content=b"[]", headers={**headers, **{"Content-Type": "application/json"}})
        c.assert_error(response, 400, "invalid_body")
    elif how == "invalid-action-key":
        response = user.execute(nba_id, "bogus_action", idempotency_key=key)
        c.assert_error(response, 400, "invalid_action_key")
    else:
        response = user.execute(UNKNOWN_ID, "mark_done", idempotency_key=key)
        c.assert_error(response, 404, "not_found")


BEFORE_STEP_5 = ("unauthenticated", "invalid-body", "invalid-action-key", "unknown-id")


def test_requests_answered_before_step_5_do_not_use_the_key(
    fresh: c.User, api: httpx.Client, idem_key: Callable[[], str]
) -> None:
    # One key through all four early answers, then used: one run to show it was unused, not four
    # (each request spends the shared account's budget).
    nba_id, key = fresh.fixture.next_actions[0].id, idem_key()
    before = _ids(fresh, nba_id)
    for how in BEFORE_STEP_5:
        _answered_before_step_5(fresh, api, nba_id, key, how)
    # recompute_score, not mark_done: on the shared account an item used up costs a run of
    # run_next_actions to replace, and the Execution record shows the run as well.
    response, body = _first(fresh, nba_id, "recompute_score", key)
    c.expect_status(
        response,
        200,
        f"the key was not used by the requests answered at steps 1 to 4 ({', '.join(BEFORE_STEP_5)}; section 6)",
    )
    assert _new_ids(fresh, nba_id, before) == [body["executionId"]], "the request with the unused key ran once"


def test_a_key_is_the_exact_string_sent(fresh: c.User, idem_key: Callable[[], str]) -> None:
    """Two keys that differ only in case, or only after their 64th character, are two keys.

    A request with a key that was never used is not "a later request with K": it reaches step 6
    and runs, so it must not be answered with another key's replay.
    """
    nba_id = fresh.fixture.next_actions[0].id
    key = idem_key().ljust(64, "0") + "-first"
    others = {"only in case": key.upper(), "only after the 64th character": key[:64] + "-second"}
    assert key.upper() != key and key.upper()[:64] != key[:64]
    before = _ids(fresh, nba_id)
    first, first_body = _first(fresh, nba_id, "recompute_score", key)
    c.expect_status(first, 200)
    for differs, other in others.items():
        second, second_body = _first(fresh, nba_id, "recompute_score", other)
        c.expect_status(second, 200, f"a request with the unused key {other!r} runs (section 6)")
        assert not _is_replay(second) and second_body["executionId"] != first_body["executionId"], (
            f"a key is the exact string the client sent (section 6): {other!r} differs from {key!r} {differs}, "
            f"so its request runs instead of replaying; got {c.describe(second)} after {c.describe(first)}"
        )
    new = _new_ids(fresh, nba_id, before)
    assert len(new) == 3, f"three requests with three different keys are three executions (section 6); new: {new!r}"


def test_a_request_with_a_used_key_still_passes_steps_1_to_4(fresh: c.User, idem_key: Callable[[], str]) -> None:
    """Replays still pass steps 1 to 4: a bad request with a used key gets its step's error, not the replay."""
    nba_id, key = fresh.fixture.next_actions[0].id, idem_key()
    c.expect_status(_first(fresh, nba_id, "recompute_score", key)[0], 200)
    headers = {"Idempotency-Key": key, "Content-Type": "application/json"}
    c.assert_error(fresh.execute(nba_id, content=b"[]", headers=headers), 400, "invalid_body")
    c.assert_error(fresh.execute(nba_id, "bogus_action", idempotency_key=key), 400, "invalid_action_key")
    c.assert_error(fresh.execute(UNKNOWN_ID, "recompute_score", idempotency_key=key), 404, "not_found")


def test_empty_key_counts_as_absent(fresh: c.User) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    before = _ids(fresh, nba_id)
    first, first_body = _first(fresh, nba_id, "recompute_score", "")
    second, second_body = _first(fresh, nba_id, "recompute_score", "")
    c.expect_status(first, 200, "an empty Idempotency-Key counts as absent (section 6)")
    c.expect_status(second, 200, "an empty Idempotency-Key counts as absent (section 6)")
    assert first_body["executionId"] != second_body["executionId"], (
        "two requests with an empty key are two executions (an empty key counts as absent)"
    )
    assert len(_new_ids(fresh, nba_id, before)) == 2, "two requests with an empty key are two executions"


def test_a_1_character_key_is_accepted(isolated: c.User) -> None:
    # Keys of 1..255 characters MUST be accepted; 255 is test_replay_answers_the_same_and_runs_nothing's.
    # A 1-character key cannot be unique across runs: it needs a brand-new user (keys live 24 h).
    nba_id, key = isolated.fixture.next_actions[0].id, "k"
    first, body = _first(isolated, nba_id, "recompute_score", key)
    c.expect_status(first, 200, "a 1-character Idempotency-Key must be accepted (section 6)")
    replay = isolated.execute(nba_id, "recompute_score", idempotency_key=key)
    _assert_replay(first, replay)
    assert _ids(isolated, nba_id) == [body["executionId"]], "a replay adds no Execution record"


def test_concurrent_requests_with_one_key_run_once(
    isolated: c.User, new_client: Callable[..., httpx.Client], idem_key: Callable[[], str]
) -> None:
    nba_id, key, threads = isolated.fixture.next_actions[0].id, idem_key(), 8
    clients = [new_client() for _ in range(threads)]

    def send(n: int) -> httpx.Response:
        return clients[n].post(
            c.execute_path(nba_id),
            json={"actionKey": "recompute_score"},
            headers={**isolated.headers(), "Idempotency-Key": key},
        )

    answers = c.race(threads, send, timeout=30)
    responses = [a for a in answers if isinstance(a, httpx.Response)]
    assert len(responses) == threads, f"every request must get an answer; got {answers!r}"
    records = isolated.executions(nba_id)
    assert len(records) == 1, (
        f"however many requests with one key arrive at once, at most one Execution is created "
        f"(section 6); got {len(records)}: {records!r}"
    )
    execution_id = records[0]["id"]
    for response in responses:
        if response.status_code == 409:
            c.assert_error(response, 409, "idempotency_key_in_flight", secrets=isolated.secrets)
            continue
        body = c.expect_status(response, 200, "a concurrent request gets the replay or a 409")
        assert body.get("executionId") == execution_id, (
            f"every 200 names the one execution {execution_id}; got {c.describe(response)}"
        )
    # One Execution (above) says the action ran once. A replay MUST carry
    # Idempotent-Replayed: true, and what the first answer carries is free (v1.1), so at most
    # one 200 (the first) may lack it.
    unmarked = [r for r in responses if r.status_code == 200 and not _is_replay(r)]
    assert len(unmarked) <= 1, (
        f"every 200 but the first is a replay and carries Idempotent-Replayed: true (section 6); "
        f"got {[(r.status_code, r.headers.get(REPLAYED)) for r in responses]}"
    )


@pytest.mark.slow
def test_a_key_still_replays_after_a_minute(fresh: c.User, api: httpx.Client, idem_key: Callable[[], str]) -> None:
    """Keys live at least 24 hours: a key still replays when the server's Date says a minute has passed.

    Costs about 63 s of waiting. It cannot show 24 hours; it catches keys kept for seconds or a
    minute (a retention meant in hours and written in seconds).
    """
    nba_id, key = fresh.fixture.next_actions[0].id, idem_key()
    before = _ids(fresh, nba_id)
    first, body = _first(fresh, nba_id, "recompute_score", key)
    c.expect_status(first, 200)
    until = c.server_now(first) + timedelta(seconds=62)
    for _ in range(75):  # bounded: about 62 s of one-second naps
        now = c.server_now(api.get(c.HEALTH_PATH))
        if now >= until:
            break
        time.sleep(min(1.0, (until - now).total_seconds() + 0.05))
    replay = fresh.execute(nba_id, "recompute_score", idempotency_key=key)
    waited = (c.server_now(replay) - c.server_now(first)).total_seconds()
    assert waited >= 60, f"the test's own wait: the server's Date says only {waited:g} s passed"
    _assert_replay(first, replay)
    new = _new_ids(fresh, nba_id, before)
    assert new == [body["executionId"]], (
        f"keys live at least 24 hours (section 6): a replay {waited:g} s later adds no Execution record; "
        f"new records: {new!r}"
    )
