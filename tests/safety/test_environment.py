"""What the target says it is: reading `environment` from GET /api/health, and the decision it drives."""

from __future__ import annotations

import httpx
import pytest

from safety.decision import decide
from safety.environment import (
    EnvironmentNameError,
    EnvironmentReading,
    health_url,
    prod_environment_names,
    read_environment,
)
from safety.hosts import HostPolicy, TargetClass
from safety.redirects import RedirectProbe
from safety.target import TargetChoice

PROD_NAMES = prod_environment_names([("prod-eu", "E2E_PROD_ENVIRONMENTS")])


def _answer(status: int, body: bytes, seen: list[httpx.Request] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return httpx.MockTransport(handler)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("http://127.0.0.1:9/", "http://127.0.0.1:9/api/health"),
        ("http://127.0.0.1:9", "http://127.0.0.1:9/api/health"),
        ("https://x.example/app/", "https://x.example/app/api/health"),
    ],
)
def test_health_url_joins_like_the_suite(base: str, expected: str) -> None:
    assert health_url(base) == expected


def test_reads_the_environment_with_a_bare_get() -> None:
    seen: list[httpx.Request] = []
    body = b'{"ok": true, "environment": "production"}'
    reading = read_environment("http://127.0.0.1:9/", transport=_answer(200, body, seen))
    assert reading == EnvironmentReading("http://127.0.0.1:9/api/health", name="production")
    assert reading.is_prod(PROD_NAMES)
    (request,) = seen
    assert request.method == "GET"
    assert not {"authorization", "cookie", "proxy-authorization"} & {k.lower() for k in request.headers}


@pytest.mark.parametrize(
    ("status", "body", "name", "error"),
    [
        (200, b'{"ok": true}', None, None),
        (200, b'{"ok": true, "environment": "staging"}', "staging", None),
        (200, b'{"environment": "PROD-EU"}', "PROD-EU", None),
        (500, b"{}", None, "it answered 500"),
        (302, b"", None, "it answered 302"),  # redirects are not followed
        (200, b"<html>", None, "its body is not JSON"),
        (200, b"[1]", None, "its body is not a JSON object"),
        (200, b'{"environment": 1}', None, 'its "environment" is not a string: 1'),
    ],
)
def test_answers_that_name_no_production_environment(
    status: int, body: bytes, name: str | None, error: str | None
) -> None:
    reading = read_environment("http://127.0.0.1:9", transport=_answer(status, body))
    assert (reading.name, reading.error) == (name, error)
    assert reading.is_prod(PROD_NAMES) is (name == "PROD-EU")


def test_unreachable_target_is_an_unread_answer() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    reading = read_environment("http://127.0.0.1:9", transport=httpx.MockTransport(refuse))
    assert reading.error is not None and "ConnectError" in reading.error
    assert "could not be read" in reading.describe(PROD_NAMES)
    assert "host rules decide" in reading.describe(PROD_NAMES)


@pytest.mark.parametrize("bad", ["https://prod", "prod env", "*", "-x"])
def test_bad_environment_names_are_refused_naming_value_and_source(bad: str) -> None:
    with pytest.raises(EnvironmentNameError) as raised:
        prod_environment_names([(bad, "E2E_PROD_ENVIRONMENTS")])
    assert repr(bad) in str(raised.value) and "E2E_PROD_ENVIRONMENTS" in str(raised.value)


def test_production_is_always_a_production_name() -> None:
    assert prod_environment_names([]) == {"production"}
    assert {"production", "prod-eu"} == PROD_NAMES


LOCAL_TARGET = "http://127.0.0.1:18090/"
CHOICE = TargetChoice(LOCAL_TARGET, "--base-url")
POLICY = HostPolicy()
PROBE = RedirectProbe(((LOCAL_TARGET, POLICY.classify_url(LOCAL_TARGET)),))


def test_a_loopback_target_that_says_production_is_production() -> None:
    reading = EnvironmentReading(LOCAL_TARGET + "api/health", name="production")
    decision = decide(CHOICE, LOCAL_TARGET, POLICY, False, PROBE, reading, PROD_NAMES)
    assert decision.target_class == TargetClass.PROD
    assert decision.outcome == "skip"
    assert decision.rule == "environment"
    assert "\"environment\": 'production'" in decision.why
    assert decision.prod_origins == (("127.0.0.1", 18090),)


def test_override_lets_mutating_tests_write_to_a_target_that_says_production() -> None:
    reading = EnvironmentReading(LOCAL_TARGET + "api/health", name="production")
    decision = decide(CHOICE, LOCAL_TARGET, POLICY, True, PROBE, reading, PROD_NAMES)
    assert decision.outcome == "allow" and decision.prod_override_active
    assert decision.writable_prod_hosts == ("127.0.0.1",)


@pytest.mark.parametrize(
    "reading",
    [
        EnvironmentReading(LOCAL_TARGET + "api/health", name="development"),
        EnvironmentReading(LOCAL_TARGET + "api/health"),
        EnvironmentReading(LOCAL_TARGET + "api/health", error="it answered 500"),
    ],
)
def test_any_other_answer_leaves_the_host_rules_in_charge(reading: EnvironmentReading) -> None:
    decision = decide(CHOICE, LOCAL_TARGET, POLICY, False, PROBE, reading, PROD_NAMES)
    assert decision.target_class == TargetClass.LOCAL
    assert decision.outcome == "allow"
    assert decision.rule == "host (loopback)"
    assert decision.environment == reading.describe(PROD_NAMES)
    assert decision.prod_origins == ()
