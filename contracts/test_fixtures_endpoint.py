"""Section 4: POST /api/e2e/fixtures (mutating: never called on production)."""

from __future__ import annotations

import httpx
import pytest

from contracts import api as c
from safety.skips import SkipCategory, skip_for_setup

pytestmark = [pytest.mark.mutating, pytest.mark.needs_fixtures]


@pytest.fixture(autouse=True)
def _needs_endpoint(fixtures_enabled: bool) -> None:
    if not fixtures_enabled:
        skip_for_setup(
            SkipCategory.NO_FIXTURES_ENDPOINT,
            "the target has no POST /api/e2e/fixtures (it answered 404): enable it to check "
            "section 4 (the reference app: REFAPP_E2E_FIXTURES=1)",
        )


@pytest.mark.parametrize(
    ("body", "expected"),
    [(None, 3), (b"", 3), (b"{}", 3), (b'{"nextActions": 1}', 1), (b'{"nextActions": 50}', 50)],
    ids=["no-body", "empty-body", "empty-object", "one", "fifty"],
)
def test_creates_a_user_a_lead_and_n_queued_next_actions(api: httpx.Client, body: bytes | None, expected: int) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = api.post(c.FIXTURES_PATH, content=body, headers=headers)
    data = c.parse_fixture(
        c.expect_status(response, 201, "POST /api/e2e/fixtures creates test data (section 4)"),
        expected,
        response,
    )
    user = c.User(
        api=api,
        token=c.login(api, data.email, data.password),
        email=data.email,
        password=data.password,
        data=data,
    )
    queued = {i["id"]: i for i in user.list_items("queued")}
    for ref in data.next_actions:
        assert ref.id in queued, f"fixture next action {ref.id} must be listed as queued"
        item = queued[ref.id]
        assert item["status"] == "queued" and item["leadId"] == data.lead_id, (
            f"fixture next actions are queued on the fixture's lead; got {item!r}"
        )
        assert item["title"] == ref.title and item["snoozedUntil"] is None
    assert len(queued) == expected, (
        f"a brand-new user has exactly its {expected} next actions; the list holds {len(queued)}"
    )
    user.lead(data.lead_id)  # 200 and the lead shape


def test_each_call_is_isolated_and_titles_are_unique(api: httpx.Client) -> None:
    # Twelve in one call: a title numbered per call ("#1") would be inside another ("#10"-"#12").
    first = c.create_fixture(api, next_actions=12)
    second = c.create_fixture(api, next_actions=5)
    assert first.email != second.email, "each call makes a brand-new user (section 4)"
    assert first.lead_id != second.lead_id, "each call makes its own lead (section 4)"
    titles = [n.title for n in first.next_actions + second.next_actions]
    assert len(set(titles)) == len(titles), f"every title is unique across calls; got {titles!r}"
    for a in titles:
        for b in titles:
            assert a == b or a not in b, f"no title contains another (section 4): {a!r} in {b!r}"
    token = c.login(api, first.email, first.password)
    seen = {i["id"] for i in c.User(api, token, first.email, first.password).list_items()}
    assert not seen & {n.id for n in second.next_actions}, "a call's data is isolated from others'"


def test_unknown_fields_are_ignored(api: httpx.Client) -> None:
    response = api.post(c.FIXTURES_PATH, json={"nextActions": 1, "note": "x", "extra": {"nested": [1]}})
    body = c.expect_status(response, 201, "unknown extra request fields are ignored (section 1)")
    c.parse_fixture(body, 1, response)


BAD_BODIES: dict[str, bytes] = {
    "array": b"[]",
    "string": b'"x"',
    "number": b"3",
    "null": b"null",
    "not-json": b"{nextActions",
    "n-zero": b'{"nextActions": 0}',
    "n-51": b'{"nextActions": 51}',
    "n-negative": b'{"nextActions": -1}',
    "n-fraction": b'{"nextActions": 1.5}',
    "n-string": b'{"nextActions": "3"}',
    "n-bool": b'{"nextActions": true}',
    "failing-not-array": b'{"failingActions": "recompute_score"}',
    "failing-unknown-key": b'{"failingActions": ["bogus_action"]}',
    "failing-non-string": b'{"failingActions": [1]}',
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=list(BAD_BODIES))
def test_bad_body_is_invalid_body(api: httpx.Client, case: str) -> None:
    response = api.post(c.FIXTURES_PATH, content=BAD_BODIES[case], headers={"Content-Type": "application/json"})
    c.assert_error(response, 400, "invalid_body")


# A body of only whitespace: `{}` or 400 invalid_body, free (section 4, v1.1). The vertical tab
# is not JSON whitespace, which is what the fuzzer found; both readings are allowed all the same.
WHITESPACE_BODIES: dict[str, bytes] = {
    "vertical-tab": b"\x0b",
    "spaces": b"   ",
    "newline": b"\n",
    "tab-crlf": b"\t\r\n",
}


@pytest.mark.parametrize("case", list(WHITESPACE_BODIES), ids=list(WHITESPACE_BODIES))
def test_whitespace_only_body_is_empty_or_invalid_body(api: httpx.Client, case: str) -> None:
    response = api.post(c.FIXTURES_PATH, content=WHITESPACE_BODIES[case], headers={"Content-Type": "application/json"})
    if response.status_code == 201:
        c.parse_fixture(response.json(), 3, response)  # read as `{}`: the default three
    else:
        c.assert_error(response, 400, "invalid_body")


def test_failing_actions_make_those_actions_fail(api: httpx.Client) -> None:
    user = c.fixtures_user(api, next_actions=2, failing_actions=["recompute_score", "mark_done"])
    for ref, key in zip(user.fixture.next_actions, ("recompute_score", "mark_done"), strict=True):
        response = user.execute(ref.id, key)
        error = c.assert_error(response, 500, "execution_failed", secrets=user.secrets)
        assert isinstance(error.get("executionId"), str), f"a 500 execution_failed names its executionId; got {error!r}"
        # The simulated error's secret is in no answer, record or event (section 4).
        for where, text in (
            ("the next action", user.get(c.nba_path(ref.id)).text),
            ("its executions", user.get(c.nba_path(ref.id) + "/executions").text),
            ("the ops events", user.get(c.EVENTS_PATH, params={"nextActionId": ref.id}).text),
        ):
            c.assert_no_secret(text, user.secrets, where)
