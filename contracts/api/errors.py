"""Describing answers in assertion messages, and the leak checks on error answers (section 1)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

import httpx

#: The secret string inside the simulated internal error of `failingActions` (section 4).
FIXTURE_SECRET = "sk_live_FIXTURE_SECRET"


def describe(response: httpx.Response, limit: int = 500) -> str:
    """`METHOD /path -> status: body excerpt`, for assertion messages."""
    request = response.request
    body = response.text
    if len(body) > limit:
        body = body[:limit] + f"... ({len(response.text)} chars)"
    return f"{request.method} {request.url.raw_path.decode()} -> {response.status_code}: {body!r}"


def json_body(response: httpx.Response) -> Any:
    """The response's JSON body; fails with a readable message when it is not JSON."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AssertionError(
            f"the contract requires a JSON body (section 1); got {describe(response)} ({error})"
        ) from None


def expect_status(response: httpx.Response, status: int, why: str = "") -> Any:
    """Assert the status and return the JSON body."""
    assert response.status_code == status, (
        f"expected {status}{' (' + why + ')' if why else ''}; got {describe(response)}"
    )
    return json_body(response)


# --------------------------------------------------------------------------- leaks


_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \"[^\"]+\", line \d+"
    r"|^\s*at [\w$.<>\[\] ]+ \(?[^()\s]+:\d+:\d+\)?"
    r"|\w+(Error|Exception)\b.*\n\s+at "
    r"|\.(py|js|mjs|cjs|ts|tsx|rb|go|java|php):\d+",
    re.MULTILINE,
)
_SQL = re.compile(
    r"\bSELECT\s+(?:\*|DISTINCT\b|COUNT\(|[\w.\"`]+(?:\s*,\s*[\w.\"`]+)*)\s+FROM\b"
    r"|\bINSERT\s+INTO\b"
    r"|\bUPDATE\s+\S+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(CREATE|DROP|ALTER)\s+TABLE\b"
    r"|sqlite3?\.|psycopg|sqlalchemy|OperationalError|IntegrityError|ProgrammingError"
    r"|\bSQLSTATE\b|\bSQL syntax\b|\bno such (table|column)\b|\bduplicate key value\b",
    re.IGNORECASE,
)
_FILE_PATH = re.compile(
    r"(?:(?<![\w/])/(?:home|usr|var|tmp|opt|srv|app|work|etc|root|proc|Users|node_modules)/\S+)"
    r"|(?:[A-Za-z]:\\[^\s\"']+)"
    r"|(?:[\w.-]*/[\w./-]*\.(?:py|pyc|js|mjs|cjs|ts|tsx|rb|go|java|php|sqlite3?|db)\b)",
)


def find_leaks(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What in `text` the contract forbids in an error message (section 1) or an event (section 7).

    A stack trace, SQL, a file path, the fixtures' secret, and any of `secrets` (passwords,
    tokens, the cron secret). Returns one short description per finding; empty when clean.
    """
    findings: list[str] = []
    for name, pattern in (
        ("a stack trace", _STACK_TRACE),
        ("SQL", _SQL),
        ("a file path", _FILE_PATH),
    ):
        match = pattern.search(text)
        if match:
            findings.append(f"{name} ({match.group(0)[:80]!r})")
    for secret in (FIXTURE_SECRET, *secrets):
        if secret and secret in text:
            findings.append(f"a secret value ({secret[:4]}...)")
    return findings


def assert_no_secret(text: str, secrets: Iterable[str], where: str) -> None:
    """Assert that none of `secrets` (nor the fixtures' secret) occurs in `text`."""
    found = [s[:4] + "..." for s in (FIXTURE_SECRET, *secrets) if s and s in text]
    assert not found, f"the contract forbids secret values in {where}; found {found} in {text[:500]!r}"


def assert_error(response: httpx.Response, status: int, code: str, *, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """Assert an error answer: status, `{"ok": false, "error": {"code", "message"}}`, clean message.

    Returns the `error` object (so a caller can read `executionId` on a 500 `execution_failed`).
    The message text is free, but it must not hold a stack trace, SQL, a file path or a secret.
    """
    assert response.status_code == status, f"the contract requires {status} {code}; got {describe(response)}"
    body = json_body(response)
    assert isinstance(body, dict) and body.get("ok") is False, (
        f'every error body must be {{"ok": false, "error": {{...}}}} (section 1); got {describe(response)}'
    )
    error = body.get("error")
    assert isinstance(error, dict), f'the error body needs an "error" object; got {describe(response)}'
    assert error.get("code") == code, (
        f"the contract requires error code {code!r}; got {error.get('code')!r} in {describe(response)}"
    )
    message = error.get("message")
    assert isinstance(message, str), (
        f'"error.message" must be a string (section 1); got {message!r} in {describe(response)}'
    )
    leaks = find_leaks(message, secrets)
    assert not leaks, (
        f"an error message must not contain a stack trace, SQL, a file path or a secret "
        f"(section 1); found {', '.join(leaks)} in {describe(response)}"
    )
    # Secrets must not appear anywhere in the answer, not just the message.
    assert_no_secret(response.text, secrets, f"the body of {describe(response, 120)}")
    return error
