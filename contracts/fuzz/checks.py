"""Custom schemathesis checks for the contract's rules that an OpenAPI document cannot say.

- `no_leak_in_error_body`: no error body holds a stack trace, SQL, a file path, the fixtures'
  secret `sk_live_FIXTURE_SECRET` or a secret the run knows (the cron secret) (section 1);
- `retry_after_on_429`: every 429 carries `Retry-After` in delay-seconds, 1..60 (section 6);
- `error_body_shape`: every 4xx/5xx body is `{"ok": false, "error": {"code", "message"}}`, on
  undocumented statuses too (section 1);
- `auth_checked_first_on_execute`: an authenticated execute request that failed at steps 3-5
  answers 401 once its credentials are taken away (section 6: auth is step 1).

They are registered with `@schemathesis.check`, so `st run` runs them as well when this module
is loaded as a hook module (`SCHEMATHESIS_HOOKS=contracts.fuzz.hooks`).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from schemathesis import CheckContext, Response
from schemathesis.generation.case import Case

from contracts.api import FIXTURE_SECRET, find_leaks

_DELAY_SECONDS = re.compile(r"[0-9]+")


def _known_secrets() -> list[str]:
    secret = os.environ.get("E2E_CRON_SECRET", "")
    return [secret] if len(secret) >= 8 else []


def _json(response: Response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


@schemathesis.check
def no_leak_in_error_body(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Error answers never hold a stack trace, SQL, a file path or a secret (section 1)."""
    text = response.content.decode("utf-8", errors="replace") if response.content else ""
    if FIXTURE_SECRET in text:
        raise AssertionError(
            f"the response body holds the fixtures' secret {FIXTURE_SECRET[:4]}... "
            f"(sections 1 and 4): {response.status_code} {text[:300]!r}"
        )
    if response.status_code < 400:
        return None
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    # The message is what the contract names; the whole body is checked too, for a framework's
    # own error page (a traceback under "detail", say).
    for where, value in (("error.message", message), ("the body", text)):
        if not isinstance(value, str):
            continue
        leaks = find_leaks(value, _known_secrets())
        if leaks:
            raise AssertionError(
                f"an error answer must not contain a stack trace, SQL, a file path or a secret "
                f"(section 1); found {', '.join(leaks)} in {where} of "
                f"{response.status_code} {text[:300]!r}"
            )
    return None


@schemathesis.check
def retry_after_on_429(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A 429 carries `Retry-After` in delay-seconds, an integer 1..60 (section 6)."""
    if response.status_code != 429:
        return None
    values = response.headers.get("retry-after") or response.headers.get("Retry-After")
    if not values:
        raise AssertionError("a 429 must carry a Retry-After header (section 6); it has none")
    value = values[0] if isinstance(values, list) else str(values)
    if not _DELAY_SECONDS.fullmatch(value.strip()) or not 1 <= int(value.strip()) <= 60:
        raise AssertionError(f"Retry-After on a 429 must be delay-seconds 1..60 (section 6); got {value!r}")
    return None


@schemathesis.check
def error_body_shape(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every error answer has `{"ok": false, "error": {"code": str, "message": str}}` (section 1)."""
    if response.status_code < 400:
        return None
    body = _json(response)
    error = body.get("error") if isinstance(body, dict) else None
    if (
        not isinstance(body, dict)
        or body.get("ok") is not False
        or not isinstance(error, dict)
        or not isinstance(error.get("code"), str)
        or not isinstance(error.get("message"), str)
    ):
        text = response.content.decode("utf-8", errors="replace")[:300] if response.content else ""
        raise AssertionError(
            'every error answer must have the body {"ok": false, "error": {"code", "message"}} '
            f"(section 1); got {response.status_code} {text!r}"
        )
    return None


_EXECUTE_PATH = re.compile(r"/api/next-actions/[^/]+/execute$")


@schemathesis.check
def auth_checked_first_on_execute(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """On the execute route, auth is checked before the body, the id and the key (section 6).

    An authenticated execute request answered 400, 404, 409 or 422 is sent again without its
    credentials (an unauthenticated request spends no rate-limit budget): the answer must
    then be 401 `unauthorized`, whatever is wrong with the rest of the request.
    """
    request = response.request
    if (
        response.status_code not in (400, 404, 409, 422)
        or request.method != "POST"
        or not _EXECUTE_PATH.search(urlsplit(str(request.url)).path)
    ):
        return None
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _CREDENTIALS}
    if len(headers) == len(request.headers):
        return None  # it carried no credentials: nothing to compare
    with requests.Session() as session:
        session.trust_env = False
        probe = session.post(str(request.url), data=request.body, headers=headers, timeout=15)
    if probe.status_code != 401:
        raise AssertionError(
            "the execute route must check auth first (section 6, step 1): this request answered "
            f"{response.status_code} with credentials and {probe.status_code} without them "
            f"(expected 401): {probe.text[:200]!r}"
        )
    return None


_CREDENTIALS = {"authorization", "cookie"}

CONTRACT_CHECKS = (
    no_leak_in_error_body,
    retry_after_on_429,
    error_body_shape,
    auth_checked_first_on_execute,
)

#: Operations whose auth enforcement `ignored_auth` has confirmed in this process.
_AUTH_ENFORCED: set[str] = set()


def ignored_auth_once(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """schemathesis' `ignored_auth`, confirming each operation once per run (as `st run` does).

    Outside its engine (`case.validate_response`) the check gets no memory of confirmed
    operations and re-sends its two unauthenticated probes after every authenticated 2xx,
    which doubles the requests of a run; this gives it one.
    """
    from schemathesis.specs.openapi.checks import ignored_auth

    if ctx.auth_enforced_operations is None:
        ctx.auth_enforced_operations = _AUTH_ENFORCED
    return ignored_auth(ctx, response, case)
