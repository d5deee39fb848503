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

# What section 1 forbids in an error message, recognised by its shape rather than by a list of
# known values: a stack frame of any common runtime, SQL in statement shape (or a driver's own
# error), an absolute or dotted-relative file path in any folder, a password assignment, and a
# token or key. The contract's own messages are free text, so each pattern needs the shape of
# the thing (keywords in statement order, a path of two segments, a long mixed-case run), not
# just a word: "Select another action from the list" or "/api/next-actions/abc" stay clean.

_STACK_TRACE = re.compile(
    r"Traceback \(most recent call last\)"  # Python
    r"|File \"[^\"]+\", line \d+"  # Python frame
    r"|^\s*at [\w$.<>\[\] ]+ \(?[^()\s]+:\d+:\d+\)?"  # JavaScript frame
    r"|\w+(Error|Exception)\b.*\n\s+at "  # JavaScript / Java: an error, then a frame
    r"|\bat (?:[\w$]+\.)+[\w$<>]+\((?:[\w$]+\.(?:java|kt|scala)|Native Method|Unknown Source)(?::\d+)?\)"  # Java
    r"|\bfrom [^\s:]+:\d+:in [`']"  # Ruby
    r"|^goroutine \d+ \[|\bpanic: "  # Go
    r"|^#\d+ [^\s(]+\(\d+\): "  # PHP
    r"|\.(py|js|mjs|cjs|ts|tsx|jsx|rb|go|java|kt|php|cs|rs):\d+",  # file:line of any of these
    re.MULTILINE,
)
_IDENT = r"[\w.\"`\[\]]+"
_SQL = re.compile(
    # Statements: keywords in statement order. Upper-case keywords need little more; lower-case
    # ones need a shape ordinary prose does not have (a `*`, a column list, `=`, a parenthesis).
    r"\bSELECT\s+(?:\*|DISTINCT\b|COUNT\(|"
    + _IDENT
    + r"(?:\s*,\s*"
    + _IDENT
    + r")*)\s+FROM\s+"
    + _IDENT
    + r"|\bINSERT\s+INTO\s+"
    + _IDENT
    + r"|\bUPDATE\s+"
    + _IDENT
    + r"\s+SET\s+"
    + _IDENT
    + r"\s*="
    + r"|\bDELETE\s+FROM\s+"
    + _IDENT
    + r"|\b(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:TABLE|INDEX|VIEW|SCHEMA|DATABASE)\b"
    + r"|\bWHERE\s+"
    + _IDENT
    + r"\s*(?:=|<>|!=|\bIN\s*\(|\bIS\s+(?:NOT\s+)?NULL\b|\bLIKE\b)"
    + r"|(?i:\bselect\s+(?:\*|"
    + _IDENT
    + r"(?:\s*,\s*"
    + _IDENT
    + r")+)\s+from\s+"
    + _IDENT
    + r")"
    + r"|(?i:\bselect\b.{1,200}?\bfrom\s+"
    + _IDENT
    + r"\s+where\s+"
    + _IDENT
    + r"\s*(?:=|\bin\s*\())"
    + r"|(?i:\binsert\s+into\s+"
    + _IDENT
    + r"\s*\()"
    + r"|(?i:\bupdate\s+"
    + _IDENT
    + r"\s+set\s+"
    + _IDENT
    + r"\s*=)"
    + r"|(?i:\bdelete\s+from\s+"
    + _IDENT
    + r"\s+where\b)"
    # Drivers' and ORMs' own errors.
    + r"|(?i:sqlite3?\.|psycopg|sqlalchemy|\bOperationalError\b|\bIntegrityError\b|\bProgrammingError\b)"
    + r"|(?i:\bSQLSTATE\b|\bSQL syntax\b|\bno such (?:table|column)\b|\bduplicate key value\b)"
    + r"|(?i:\bviolates (?:unique|foreign key|not-null|check) constraint\b|\bPrisma\w*Error\b|\bQueryFailedError\b)"
    + r"|(?i:\bSequelize\w*Error\b|\bER_[A-Z_]+\b|\bORA-\d{5}\b)",
    re.DOTALL,
)
# The contract's own URL space is not a file path: a message may name a route it refused.
_ROUTES = r"(?:api|login|logout|next-actions|leads|static)\b"
_SEGMENT = r"[\w.@+~$-]+"
_FILE_PATH = re.compile(
    # An absolute Unix path of two segments or more, in any folder (not a URL's path, not a route).
    r"(?<![\w.~:/\\-])/(?!"
    + _ROUTES
    + r")"
    + _SEGMENT
    + r"(?:/"
    + _SEGMENT
    + r")+"
    # A home-relative or dotted-relative path: ~/x, ./x, ../x.
    + r"|(?<![\w.~/])(?:~|\.\.?)/"
    + _SEGMENT
    # A Windows path (C:\x, \\server\share) or a file: URL.
    + r"|(?<![\w])[A-Za-z]:\\[^\s\"'<>|]+"
    r"|\\\\[\w.$-]+\\[^\s\"'<>|]+"
    r"|\bfile:/+\S+"
    # A relative path to a source, database or config file.
    r"|[\w.-]*/[\w./-]*\.(?:py|pyc|js|mjs|cjs|ts|tsx|jsx|rb|go|java|kt|php|cs|rs|sqlite3?|db|json|ya?ml|env|toml|ini|conf|cfg|log|sql)\b",
)
_PASSWORD = re.compile(
    r"(?i:\b(?:password|passwd|passphrase|pwd)\b\s*=\s*\S)"  # password=...
    r"|(?i:[\"']?\b(?:password|passwd|pwd)[\"']?\s*:\s*[\"'])"  # "password": "..."
)
_TOKEN = re.compile(
    r"(?i:\bbearer\s+(?=[\w~+/.=-]*\d)[\w~+/.=-]{8,})"  # an Authorization value
    r"|\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*"  # a JWT (a base64url JSON header, payload, signature)
    r"|\b(?:sk|pk|rk)_(?:live|test)_\w+"  # Stripe-style keys
    r"|\b(?:gh[pousr]|github_pat|xox[abpr]|glpat)[_-][\w-]{10,}"  # GitHub, Slack, GitLab tokens
    r"|\bAKIA[0-9A-Z]{16}\b"  # an AWS access key id
    r"|(?i:\b(?:api[_-]?key|secret|access[_-]?token|auth[_-]?token|token|session)\b\s*[=:]\s*[\"']?(?=[\w~+/.=-]*\d)[\w~+/.=-]{8,})"
    r"|(?<![\w-])[0-9a-fA-F]{40,}(?![\w-])"  # a long hex secret (ids of 32 hex digits are not one)
    # A long base64 or base64url run mixing upper case, lower case and digits.
    r"|(?<![\w+/=-])(?=[\w+/-]{32,})(?=[\w+/-]*[A-Z])(?=[\w+/-]*[a-z])(?=[\w+/-]*\d)[\w+/-]{32,}={0,2}(?![\w+/=-])"
)

#: Values shorter than this, taken from a request, are too short to be told from ordinary text.
MIN_ECHOED_SECRET = 8


def find_leaks(text: str, secrets: Iterable[str] = ()) -> list[str]:
    """What in `text` the contract forbids in an error message (section 1) or an event (section 7).

    A stack trace, SQL, a file path, a password, a token or key (by their shapes), the fixtures'
    secret, and any of `secrets` (passwords, tokens, the cron secret). Returns one short
    description per finding; empty when clean.
    """
    findings: list[str] = []
    for name, pattern in (
        ("a stack trace", _STACK_TRACE),
        ("SQL", _SQL),
        ("a file path", _FILE_PATH),
        ("a password", _PASSWORD),
        ("a token or key", _TOKEN),
    ):
        match = pattern.search(text)
        if match:
            findings.append(f"{name} ({match.group(0)[:80]!r})")
    for secret in (FIXTURE_SECRET, *secrets):
        if secret and secret in text:
            findings.append(f"a secret value ({secret[:4]}...)")
    return findings


def request_secrets(request: httpx.Request) -> list[str]:
    """The credentials a request carries: the token of `Authorization` and of every cookie, and the
    `password`, `token` and `secret` fields of a JSON body. An answer must never echo them."""
    found: list[str] = []
    authorization = request.headers.get("authorization", "")
    if authorization:
        found.append(authorization)
        found.append(authorization.strip().partition(" ")[2].strip())
    for cookie in request.headers.get_list("cookie"):
        for pair in cookie.split(";"):
            found.append(pair.partition("=")[2].strip().strip('"'))
    try:
        body = json.loads(request.content) if request.content else None
    except (httpx.RequestNotRead, ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        found.extend(v for k, v in body.items() if isinstance(v, str) and k.lower() in ("password", "token", "secret"))
    return [s for s in dict.fromkeys(found) if len(s) >= MIN_ECHOED_SECRET]


def error_message(response: httpx.Response) -> str | None:
    """`error.message` of an error answer, or None when the body has no such string."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return None
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) else None


def check_answer(response: httpx.Response) -> None:
    """The section 1 rules every answer the suite sees must keep, checked in one place.

    Installed as a response hook on every client (`api.client`), so no test can forget them:
    no answer holds the fixtures' secret (section 4); every error answer carries a `Date` header,
    its message holds no stack trace, SQL, file path, password, token or secret, and its body does
    not echo the credentials the request carried (its token, cookie or password).
    """
    response.read()
    text = response.text
    assert FIXTURE_SECRET not in text, (
        f"no answer may hold the fixtures' secret {FIXTURE_SECRET[:4]}... (sections 1 and 4); got {describe(response)}"
    )
    if response.status_code < 400:
        return
    assert response.headers.get("date"), (
        f"every response must carry a Date header (section 1), errors too; none on {describe(response, 200)}"
    )
    secrets = request_secrets(response.request)
    message = error_message(response)
    # A body without the contract's message (an HTML error page, say) is searched whole.
    leaks = find_leaks(text if message is None else message, secrets)
    assert not leaks, (
        f"an error answer must not contain a stack trace, SQL, a file path, a password, a token or "
        f"a secret (section 1); found {', '.join(leaks)} in {describe(response)}"
    )
    echoed = [s[:4] + "..." for s in secrets if s in text]
    assert not echoed, (
        f"an error answer must not echo the request's credentials {echoed} (section 1): {describe(response)}"
    )


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
