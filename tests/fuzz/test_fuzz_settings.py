"""The fuzz budget, seed and custom checks (contracts/fuzz), without a target."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from contracts.fuzz import checks, har
from contracts.fuzz.settings import CI_EXAMPLES, DEFAULT_EXAMPLES, budget, seed


def test_default_budget_is_the_developer_default() -> None:
    assert budget({}).examples in (DEFAULT_EXAMPLES, CI_EXAMPLES)


def test_examples_env_sets_the_budget() -> None:
    chosen = budget({"E2E_FUZZ_EXAMPLES": "500"})
    assert chosen.examples == 500
    assert chosen.source == "E2E_FUZZ_EXAMPLES"


@pytest.mark.parametrize("raw", ["0", "-3", "abc", "1.5", "10x"])
def test_a_bad_examples_value_is_a_usage_error_naming_it(raw: str) -> None:
    with pytest.raises(pytest.UsageError, match=f"E2E_FUZZ_EXAMPLES={raw!r}"):
        budget({"E2E_FUZZ_EXAMPLES": raw})


def test_seed_env_fixes_the_seed() -> None:
    assert seed({"E2E_FUZZ_SEED": "42"}) == (42, True)
    with pytest.raises(pytest.UsageError, match="E2E_FUZZ_SEED='x'"):
        seed({"E2E_FUZZ_SEED": "x"})


def test_xdist_workers_share_a_seed() -> None:
    one = seed({"PYTEST_XDIST_TESTRUNUID": "abc"})
    assert one == seed({"PYTEST_XDIST_TESTRUNUID": "abc"})
    assert one[1] is False


def _response(status: int, body: bytes, headers: dict[str, list[str]] | None = None) -> Any:
    return SimpleNamespace(status_code=status, content=body, headers=headers or {})


@pytest.mark.parametrize("value", ["1", "30", "60"])
def test_retry_after_in_range_passes(value: str) -> None:
    response = _response(429, b"{}", {"retry-after": [value]})
    assert checks.retry_after_on_429(None, response, None) is None


@pytest.mark.parametrize("value", [None, "0", "61", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", ""])
def test_retry_after_out_of_range_fails(value: str | None) -> None:
    headers = {} if value is None else {"retry-after": [value]}
    with pytest.raises(AssertionError, match="Retry-After"):
        checks.retry_after_on_429(None, _response(429, b"{}", headers), None)


@pytest.mark.parametrize(
    "message",
    [
        'Traceback (most recent call last):\n  File "/app/x.py", line 3',
        "SELECT id FROM next_actions WHERE id = 1",
        "failed at /usr/lib/python3/site.py",
        "upstream said sk_live_FIXTURE_SECRET",
    ],
)
def test_leaks_in_error_bodies_fail(message: str) -> None:
    body = json.dumps({"ok": False, "error": {"code": "x", "message": message}}).encode()
    with pytest.raises(AssertionError):
        checks.no_leak_in_error_body(None, _response(500, body), None)


def test_a_clean_error_body_passes() -> None:
    body = b'{"ok": false, "error": {"code": "not_found", "message": "No such next action."}}'
    assert checks.no_leak_in_error_body(None, _response(404, body), None) is None
    assert checks.error_body_shape(None, _response(404, body), None) is None


def test_the_fixture_secret_fails_even_in_a_success_body() -> None:
    with pytest.raises(AssertionError, match="secret"):
        checks.no_leak_in_error_body(None, _response(200, b'{"x": "sk_live_FIXTURE_SECRET"}'), None)


@pytest.mark.parametrize("body", [b"Internal Server Error", b'{"detail": "Not Found"}', b'{"ok": false, "error": {}}'])
def test_an_error_without_the_error_body_fails(body: bytes) -> None:
    with pytest.raises(AssertionError, match="section 1"):
        checks.error_body_shape(None, _response(404, body), None)


def test_har_cassette_holds_each_interaction_with_secrets_redacted(tmp_path: Path) -> None:
    sent = requests.Request(
        "POST",
        "http://127.0.0.1:9/api/next-actions/abc/execute?x=1",
        headers={"Authorization": "Bearer tok-SECRET", "Content-Type": "application/json"},
        data=b'{"actionKey": "mark_done"}',
    ).prepare()
    response = SimpleNamespace(
        request=sent,
        status_code=429,
        message="Too Many Requests",
        http_version="1.1",
        headers={"retry-after": ["7"], "content-type": ["application/json"]},
        content=b'{"ok": false, "error": {"code": "rate_limited", "message": "slow down"}}',
        elapsed=0.0123,
    )
    path = har.write(
        tmp_path / "cassette.har", [har.entry(response, har.now())], lambda text: text.replace("tok-SECRET", "$TOKEN")
    )
    text = path.read_text()
    assert "tok-SECRET" not in text
    log = json.loads(text)["log"]
    assert log["version"] == "1.2"
    (only,) = log["entries"]
    assert only["request"]["method"] == "POST"
    assert only["request"]["queryString"] == [{"name": "x", "value": "1"}]
    assert {"name": "Authorization", "value": "Bearer $TOKEN"} in only["request"]["headers"]
    assert only["request"]["postData"]["text"] == '{"actionKey": "mark_done"}'
    assert only["response"]["status"] == 429
    assert {"name": "retry-after", "value": "7"} in only["response"]["headers"]
    assert "rate_limited" in only["response"]["content"]["text"]
