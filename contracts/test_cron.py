"""Section 8: POST /api/cron/background-jobs and the retry_failed_deliveries job."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from contracts import api as c

RETRY_JOB_EVENT = "nba.delivery.retry_job.stub"


def _cron(client: httpx.Client, secret: str | None) -> httpx.Response:
    # An empty secret is sent as the bare scheme: HTTP forbids a trailing space in a header value.
    headers = {} if secret is None else {"Authorization": f"Bearer {secret}".strip()}
    return client.post(c.CRON_PATH, headers=headers)


def _assert_cron_ok(response: httpx.Response) -> bool:
    """Assert a 200 cron answer; return whether it processed (False when skipped: locked)."""
    body = c.expect_status(response, 200, "the cron route with the right secret (section 8)")
    assert isinstance(body, dict) and body.get("ok") is True, f"cron answers ok true; got {c.describe(response)}"
    # A run was skipped exactly when `skipped` is "locked" (v1.1): `"skipped": null` next to
    # `processed` is an extra field saying nothing, and the run processed.
    if body.get("skipped") == "locked":
        return False
    processed = body.get("processed")
    assert isinstance(processed, int) and not isinstance(processed, bool) and processed >= 0, (
        f'cron answers {{"ok": true, "processed": n}} or {{"ok": true, "skipped": "locked"}} '
        f"(section 8); got {c.describe(response)}"
    )
    return True


@pytest.mark.mutating  # a POST: the network guard keeps it off production
@pytest.mark.parametrize("secret", [None, "", "wrong"], ids=["missing", "empty", "wrong"])
def test_wrong_or_missing_secret_is_unauthorized(api: httpx.Client, secret: str | None) -> None:
    value = None if secret is None else (f"wrong-{uuid.uuid4().hex}" if secret else "")
    response = _cron(api, value)
    c.assert_error(response, 401, "unauthorized")


@pytest.mark.mutating
def test_a_users_bearer_token_does_not_open_cron(api: httpx.Client, fresh: c.User) -> None:
    """Only the cron secret opens the route: a valid user's bearer token is a wrong secret."""
    response = _cron(api, fresh.token)
    c.assert_error(response, 401, "unauthorized", secrets=fresh.secrets)


@pytest.mark.mutating
def test_the_secret_must_match_exactly(api: httpx.Client, cron_secret: str) -> None:
    """The secret with something added or taken away is a wrong secret (section 8)."""
    for name, value in (
        ("with a character added", cron_secret + "x"),
        ("without its last character", cron_secret[:-1]),
        ("with a character in front", "x" + cron_secret),
    ):
        response = _cron(api, value)
        assert response.status_code == 401, (
            f"the cron secret {name} must answer 401 unauthorized (section 8); got {c.describe(response)}"
        )
        c.assert_error(response, 401, "unauthorized", secrets=[cron_secret])


@pytest.mark.mutating
def test_cron_answers_processed_or_locked(api: httpx.Client, cron_secret: str) -> None:
    response = _cron(api, cron_secret)
    _assert_cron_ok(response)
    c.assert_no_secret(response.text, [cron_secret], "the cron answer")


@pytest.mark.mutating
def test_retry_job_is_processed_exactly_once_under_overlap(
    fresh: c.User, cron_secret: str, new_client: Callable[..., httpx.Client]
) -> None:
    nba_id = fresh.fixture.next_actions[0].id
    threads = 4
    clients = [new_client() for _ in range(threads)]
    # The shared E2E_EMAIL account's item may carry jobs of earlier tests: let a run that was
    # not skipped (bounded) process them first, and count only this test's event.
    for _ in range(50):
        if _cron(clients[0], cron_secret).json().get("skipped") != "locked":
            break
        time.sleep(0.2)
    before = len(fresh.events(type=RETRY_JOB_EVENT, nextActionId=nba_id))
    body = c.expect_status(fresh.execute(nba_id, "retry_failed_deliveries"), 200)
    assert body.get("stubbed") is True, "retry_failed_deliveries answers stubbed: true (section 6)"

    answers = c.race(threads, lambda n: _cron(clients[n], cron_secret))
    for answer in answers:
        assert isinstance(answer, httpx.Response), f"every cron invocation must answer; got {answer!r}"
        _assert_cron_ok(answer)

    # Another run (here or in a parallel worker) may still hold the lock: wait, bounded.
    deadline = time.monotonic() + 20
    events = fresh.events(type=RETRY_JOB_EVENT, nextActionId=nba_id)
    while len(events) == before and time.monotonic() < deadline:
        _assert_cron_ok(_cron(clients[0], cron_secret))
        time.sleep(0.2)
        events = fresh.events(type=RETRY_JOB_EVENT, nextActionId=nba_id)
    assert len(events) == before + 1, (
        f"the retry_failed_deliveries job is processed exactly once and emits one "
        f"{RETRY_JOB_EVENT} for its nextActionId (section 8); got {events!r}"
    )
    # Later runs do not process it again.
    _assert_cron_ok(_cron(clients[0], cron_secret))
    again = fresh.events(type=RETRY_JOB_EVENT, nextActionId=nba_id)
    assert len(again) == before + 1, f"a processed job is never processed again (section 8); got {again!r}"
    assert all(event["nextActionId"] == nba_id for event in again)
