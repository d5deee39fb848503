"""The fuzz budget, seed and custom checks (contracts/fuzz), without a target."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from contracts.fuzz import checks
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
