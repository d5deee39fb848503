"""Section 1: conventions every answer follows (JSON bodies, the error shape, the Date header)."""

from __future__ import annotations

import httpx
import pytest

from contracts import api as c

UNKNOWN_ID = "contract-no-such-id"


def _assert_json(response: httpx.Response) -> None:
    content_type = response.headers.get("content-type", "")
    assert content_type.split(";")[0].strip().lower() == "application/json", (
        f"bodies are JSON with Content-Type application/json (section 1); "
        f"got {content_type!r} on {c.describe(response, 120)}"
    )
    c.json_body(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", c.HEALTH_PATH, marks=pytest.mark.smoke),
        pytest.param("GET", c.NEXT_ACTIONS_PATH, marks=pytest.mark.smoke),
        pytest.param("GET", f"/api/leads/{UNKNOWN_ID}", marks=pytest.mark.smoke),
        # A POST: the network guard keeps it off production.
        pytest.param("POST", c.execute_path(UNKNOWN_ID), marks=pytest.mark.mutating),
    ],
)
def test_answers_are_json_with_a_date_header(api: httpx.Client, method: str, path: str) -> None:
    response = api.request(method, path, json={"actionKey": "mark_done"} if method == "POST" else None)
    _assert_json(response)
    c.server_now(response)


@pytest.mark.smoke
def test_unknown_route_is_a_json_error_with_a_date(api: httpx.Client) -> None:
    # Section 4 says a disabled fixtures endpoint "answers 404 like any unknown route"; section 1
    # gives every error answer the error body. Its code is not named, so any string will do.
    response = api.get("/api/contract-no-such-route")
    assert response.status_code == 404, f"an unknown route answers 404 (sections 1, 4); got {c.describe(response)}"
    _assert_json(response)
    c.server_now(response)
    body = response.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and body.get("ok") is False and isinstance(error, dict), (
        f'every error body is {{"ok": false, "error": {{...}}}} (section 1); got {c.describe(response)}'
    )
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), (
        f'"error" needs a string "code" and "message" (section 1); got {c.describe(response)}'
    )


@pytest.mark.smoke
def test_error_answers_have_the_error_shape_and_a_clean_message(api: httpx.Client) -> None:
    response = api.get(c.NEXT_ACTIONS_PATH, headers=c.auth_headers("not-a-real-token"))
    c.assert_error(response, 401, "unauthorized", secrets=["not-a-real-token"])


@pytest.mark.mutating
@pytest.mark.shared_items(1)
def test_unknown_request_fields_are_ignored(fresh: c.User) -> None:
    # recompute_score leaves the item queued: on the shared account a used-up item costs a
    # run of run_next_actions to replace. Its Execution record shows that it ran.
    nba = fresh.fixture.next_actions[0]
    body = {"actionKey": "recompute_score", "unknownField": {"nested": [1, 2]}, "note": "x"}
    response = fresh.execute(nba.id, json=body)
    answer = c.expect_status(response, 200, "unknown extra request fields are ignored (section 1)")
    assert answer.get("ok") is True, f"expected ok true; got {c.describe(response)}"
    ran = [record["id"] for record in fresh.executions(nba.id)]
    assert answer.get("executionId") in ran, f"the action must still have run; its Execution records: {ran!r}"


@pytest.mark.mutating
@pytest.mark.shared_login
@pytest.mark.shared_items(0)
def test_login_ignores_unknown_fields(fresh: c.User, api: httpx.Client) -> None:
    response = api.post(
        c.LOGIN_PATH,
        json={"email": fresh.email, "password": fresh.password, "remember": True, "x": None},
    )
    c.expect_status(response, 200, "unknown extra request fields are ignored (section 1)")
