"""Times as the server tells them (the `Date` header, ISO 8601 fields) and waiting out a 429.

Times are compared with the server's `Date` header, never the local clock.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from contracts.api.errors import describe
from testkit import waits

#: Rate limit of the execute route (section 6): at most this many requests per user per 60 s.
RATE_LIMIT = 20
RATE_WINDOW_SECONDS = 60

#: Times are compared with the `Date` of the causing response, allowing this much either way.
CLOCK_SLACK = timedelta(seconds=5)


def parse_time(value: object, what: str = "time") -> datetime:
    """An ISO 8601 time with an offset or `Z` (section 1); fails on anything else."""
    assert isinstance(value, str), f"{what} must be an ISO 8601 string; got {value!r}"
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise AssertionError(f"{what} must be ISO 8601; got {value!r}") from None
    assert parsed.tzinfo is not None, f"{what} must carry an offset or Z (section 1); got {value!r}"
    return parsed


def server_now(response: httpx.Response) -> datetime:
    """The server's time when it answered: the `Date` header every response carries (section 1)."""
    value = response.headers.get("date")
    assert value, f"every response must carry a Date header (section 1); none on {describe(response, 120)}"
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        raise AssertionError(f"unparseable Date header {value!r} on {describe(response, 120)}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def assert_near(actual: datetime, expected: datetime, slack: timedelta, what: str) -> None:
    delta = abs((actual - expected).total_seconds())
    assert delta <= slack.total_seconds(), (
        f"{what}: expected {expected.isoformat()} within {slack.total_seconds():g} s; "
        f"got {actual.isoformat()} ({delta:.1f} s off)"
    )


# --------------------------------------------------------------------------- Retry-After


def parse_retry_after(value: str, now: datetime) -> float:
    """Seconds to wait for a `Retry-After` value, in either RFC 9110 form.

    delay-seconds (`120`) or an HTTP-date (`Wed, 21 Oct 2015 07:28:00 GMT`, relative to `now`,
    never negative). Raises ValueError for anything else (empty, negative, fractional, junk).
    """
    text = value.strip()
    if re.fullmatch(r"[0-9]+", text):
        return float(int(text))
    if not text or text[0].isdigit() or text[0] in "+-.":
        raise ValueError(f"not a Retry-After value: {value!r}")
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not a Retry-After value: {value!r}") from None
    if when is None:
        raise ValueError(f"not a Retry-After value: {value!r}")
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def contract_retry_after(response: httpx.Response) -> int:
    """The 429's `Retry-After`, which the contract requires in delay-seconds, 1..60 (section 6)."""
    value = response.headers.get("retry-after")
    assert value is not None, f"a 429 must carry a Retry-After header (section 6); none on {describe(response)}"
    assert re.fullmatch(r"[0-9]+", value), f"Retry-After must be delay-seconds, an integer (section 6); got {value!r}"
    seconds = int(value)
    assert 1 <= seconds <= RATE_WINDOW_SECONDS, f"Retry-After must be 1..60 (section 6); got {seconds}"
    return seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How long the suite may wait out a 429 before failing (the shared-account fallback).

    At most `max_attempts` sends in all, each wait at most `max_wait` seconds, and the waits
    together at most `max_total` seconds. A 429 without a usable Retry-After is returned as is.
    """

    max_attempts: int = 3
    max_wait: float = 61.0
    max_total: float = 125.0
    margin: float = 0.5


def send_with_retry(
    send: Callable[[], httpx.Response],
    policy: RetryPolicy = RetryPolicy(),
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Send; while the answer is 429 with a Retry-After within the policy's bounds, wait and resend.

    Returns the last answer (still a 429 if the bounds ran out): the caller's assertion then
    says what came back.
    """
    waited = 0.0
    response = send()
    for _ in range(policy.max_attempts - 1):
        if response.status_code != 429:
            return response
        value = response.headers.get("retry-after")
        if value is None:
            return response
        try:
            delay = parse_retry_after(value, server_now(response))
        except (ValueError, AssertionError):
            return response
        delay += policy.margin
        if delay > policy.max_wait or waited + delay > policy.max_total:
            return response
        request = response.request
        waits.notice(delay, f"{request.method} {request.url.path} answered 429 with Retry-After {value!r}")
        sleep(delay)
        waited += delay
        response = send()
    return response
