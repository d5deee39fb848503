"""One fuzz run: send a case as a pool user, validate the answer, keep the figures and failures.

`FuzzSession.run(case)` is what every fuzz test body calls. It

1. makes the case act as a pool user (`UserPool.authorize`: token, owned ids),
2. sends it (`case.call`, through `requests`, so the safety plugin's network guard sees it),
3. counts the answer (the 429 share is printed at the end of the run),
4. validates it: every default schemathesis check plus `contracts.fuzz.checks`,
5. on a failure, writes the case to `artifacts/fuzz/failures/<operation>-<case id>.json`
   (request, answer, curl command, seed) and adds the curl command to the failure message.

The summary ("fuzz: N requests, M answered 429 ...") is printed in pytest's terminal summary
by `FuzzSummary`, a plugin object the session fixture registers on first use. Under
pytest-xdist each worker hands its summary to the controller (`config.workeroutput`), which
prints it per worker; each worker also writes its figures to
`artifacts/fuzz/summary-<worker>.json`, and they are recorded as JUnit properties.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path
from typing import Any

import pytest
import requests
from schemathesis import CheckContext, Response
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import ignored_auth

from contracts.api import auth_headers
from contracts.fuzz import ARTIFACTS_DIR, har, reach
from contracts.fuzz.auth import UserPool, security_negated
from contracts.fuzz.checks import CONTRACT_CHECKS, ignored_auth_once
from contracts.fuzz.schema import worker_suffix
from contracts.fuzz.settings import SEED_ENV, SHARED_EXECUTES_ENV, Budget, shared_executes
from safety.skips import SkipCategory, skip_for_setup
from testkit import items as shared_items

NON_429_GOAL = 0.90


class _NoCookies(DefaultCookiePolicy):
    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def _http_session() -> requests.Session:
    """Keep-alive, no proxies from the env, and no cookie jar: a login's cookie must never
    authenticate a later case (nor the unauthenticated probes of `ignored_auth`)."""
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(_NoCookies())
    return session


@dataclass
class FuzzStats:
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def rate_limited(self) -> int:
        return self.statuses.get(429, 0)

    @property
    def non_429_share(self) -> float:
        return 1.0 if not self.requests else 1 - self.rate_limited / self.requests

    def record(self, label: str, status: int) -> None:
        self.statuses[status] += 1
        self.by_operation.setdefault(label, Counter())[status] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "rate_limited": self.rate_limited,
            "non_429_share": round(self.non_429_share, 4),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "by_operation": {
                label: {str(k): v for k, v in sorted(counts.items())}
                for label, counts in sorted(self.by_operation.items())
            },
            "failures": self.failures,
            "seconds": round(time.monotonic() - self.started, 2),
        }


def _case_record(case: Case[Any], response: Any, curl: str, message: str, seed: int) -> dict[str, Any]:
    request = response.request if response is not None else None
    body: Any = None
    if request is not None and request.body is not None:
        raw = request.body
        body = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return {
        "operation": case.operation.label,
        "case_id": case.id,
        "seed": seed,
        "reproduce": (
            f"{SEED_ENV}={seed} pytest contracts -k fuzz (same budget), or the curl command "
            "with TOKEN from POST /api/auth/login as acting_user"
        ),
        "curl": curl,
        "request": {
            "method": request.method if request is not None else case.method,
            "url": request.url if request is not None else case.formatted_path,
            "headers": dict(request.headers) if request is not None else dict(case.headers or {}),
            "body": body,
        },
        "response": None
        if response is None
        else {
            "status": response.status_code,
            "headers": {k: v for k, v in response.headers.items()},
            "body": response.content.decode("utf-8", "replace")[:5000],
        },
        "failure": message[:5000],
    }


class FuzzSession:
    """Shared by every fuzz test of one pytest process (a session fixture)."""

    def __init__(
        self,
        base_url: str,
        budget: Budget,
        seed: int,
        seed_explicit: bool,
        *,
        artifacts: Path = ARTIFACTS_DIR,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.seed = seed
        self.seed_explicit = seed_explicit
        self.pool = UserPool(self.base_url)
        self.stats = FuzzStats()
        self.artifacts = artifacts
        self.http = _http_session()
        self._lock = threading.Lock()
        self.below_goal = False
        self.reach_problems: list[str] = []
        self.cassette: deque[dict[str, Any]] = deque(maxlen=har.MAX_ENTRIES)
        #: Execute cases at most sent as the shared account; those beyond are counted in `unsent`.
        self.shared_executes = shared_executes()
        self.unsent = 0

    def run(
        self,
        case: Case[Any],
        headers: dict[str, str] | None = None,
        *,
        action_may_fail: bool = False,
        over_shared_budget: str = "unsent",
    ) -> Any:
        """Send `case` as a pool user and validate the answer (raises on a check failure).

        `headers`: the auth to send instead of the pool's (the stateful run acts as the
        fixtures user whose ids a link carried). `action_may_fail`: the next action was made
        with this action key in `failingActions`, so 500 `execution_failed` is the contract's
        answer (section 6; its body is still checked against the document).
        `over_shared_budget`: what becomes of an execute case as the shared account beyond
        E2E_FUZZ_SHARED_EXECUTES: "unsent" (counted, returns None) or "unauthenticated" (sent
        without credentials, which spend no budget: a state machine needs an answer).
        Returns the schemathesis Response.
        """
        __tracebackhide__ = True
        if case.operation.definition.raw.get("operationId") == "runBackgroundJobs" and not (
            os.environ.get("E2E_CRON_SECRET")
        ):
            skip_for_setup(
                SkipCategory.NO_CRON_SECRET,
                "E2E_CRON_SECRET is unset: set it to the target's cron secret to fuzz "
                "POST /api/cron/background-jobs (section 8)",
            )
        if headers is None and self._over_shared_budget(case):
            with self._lock:
                self.unsent += 1
            if over_shared_budget == "unsent":
                return None
            headers, label = {}, case.operation.label + reach.UNJUDGED_SUFFIX
        else:
            label = case.operation.label
        if headers is None:
            headers, may_fail = self.pool.authorize_case(case)
            action_may_fail = action_may_fail or may_fail
        integral_floats_as_ints(case)
        response = self._send(case, headers, label)
        revived = self.pool.revive(headers.get("Authorization", "")) if response.status_code == 401 else None
        if revived is not None:
            # The pool's token had died (a login may end earlier sessions, v1.1): the 401 says
            # nothing about this case, so it is sent once more with the new token.
            headers = {**headers, **auth_headers(revived)}
            response = self._send(case, headers, label)
        free = free_answer(case) or free_response(case, response.status_code)
        try:
            case.validate_response(
                response,
                headers=headers,
                transport_kwargs={"base_url": self.base_url, "session": self.http},
                **response_checks(free, action_may_fail),
            )
        except (FailureGroup, AssertionError) as error:
            self._record_failure(case, response, headers, error)
            raise
        return response

    def _over_shared_budget(self, case: Case[Any]) -> bool:
        """Whether `case` is an authenticated execute as the shared account beyond
        E2E_FUZZ_SHARED_EXECUTES (the run's one rate-limit budget is not the fuzzer's alone)."""
        if case.operation.definition.raw.get("operationId") != "executeNextAction":
            return False
        if self.pool.uses_fixtures_if_known or security_negated(case):
            return False
        if case.method.upper() != "POST":
            return False  # a wrong method is turned away before the action (and is few)
        account = shared_items.active()
        if account is not None:  # the bound is the run's, whichever process fuzzes
            return not account.count_up("fuzz_shared_executes", self.shared_executes)
        return self.pool.shared_executes >= self.shared_executes

    def _send(self, case: Case[Any], headers: dict[str, str], label: str) -> Any:
        started = har.now()
        response = case.call(base_url=self.base_url, session=self.http, headers=headers)
        with self._lock:
            self.stats.record(label, response.status_code)
            self.cassette.append(har.entry(response, started))
        return response

    def _record_failure(self, case: Case[Any], response: Any, headers: dict[str, str], error: BaseException) -> None:
        try:
            curl = case.as_curl_command(headers=headers, base_url=self.base_url)
        except Exception as exc:  # pragma: no cover - curl generation is best effort
            curl = f"(no curl command: {exc})"
        curl = self._redact(curl)
        record = _case_record(case, response, curl, str(error), self.seed)
        record = json.loads(self._redact(json.dumps(record, default=str)))
        record["acting_user"] = self.pool.describe_token(headers.get("Authorization", ""))
        name = f"{case.operation.label}-{case.id}".replace("/", "_").replace(" ", "_")
        folder = self.artifacts / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name.strip('_')}.json"
        path.write_text(json.dumps(record, indent=2, default=str))
        with self._lock:
            if str(path) not in self.stats.failures:
                self.stats.failures.append(str(path))
        error.add_note(f"\nReplay: {curl}\nSaved: {path}\nSeed: {SEED_ENV}={self.seed}")

    def _redact(self, text: str) -> str:
        """Tokens and the cron secret never reach a log: `$TOKEN` / `$E2E_CRON_SECRET` instead."""
        secret = os.environ.get("E2E_CRON_SECRET", "")
        if secret:
            text = text.replace(secret, "$E2E_CRON_SECRET")
        for token in self.pool.known_tokens():
            text = text.replace(token, "$TOKEN")
        return text

    def summary_lines(self) -> list[str]:
        s = self.stats
        pool = self.pool.stats
        share = s.non_429_share
        verdict = "ok" if share >= NON_429_GOAL else f"BELOW the {NON_429_GOAL:.0%} goal"
        seed_note = "fixed by" if self.seed_explicit else "reproduce with"
        lines = [
            f"fuzz: {s.requests} requests in {time.monotonic() - s.started:.1f} s, "
            f"{s.rate_limited} answered 429: {share:.1%} not rate limited ({verdict})",
            (
                f"fuzz: {pool.users_created} fixtures users made (rotated every {self.pool.budget} execute requests)"
                if self.pool.uses_fixtures_if_known
                else f"fuzz: acting as E2E_EMAIL ({self.pool.shared_executes} execute request(s) of at most "
                f"{self.shared_executes} ({SHARED_EXECUTES_ENV}), paced with the run's shared budget)"
            )
            + f", budget {self.budget.examples} examples per "
            f"operation ({self.budget.source}), seed {self.seed} ({seed_note} "
            f"{SEED_ENV}={self.seed})",
            "fuzz: statuses " + ", ".join(f"{k}: {v}" for k, v in sorted(s.statuses.items())),
            "fuzz: per operation:",
            *reach.operation_lines(s.by_operation),
        ]
        if self.unsent:
            lines.append(
                f"fuzz: {self.unsent} execute case(s) not sent as the account (left out, or sent without "
                f"credentials in stateful runs): {SHARED_EXECUTES_ENV}="
                f"{self.shared_executes} bounds the execute requests sent as the shared account (raise it to fuzz more)"
            )
        if pool.revived:
            lines.append(
                f"fuzz: {pool.revived} dead token(s) replaced and their cases resent (the target "
                "may end a user's earlier sessions when it logs in again, v1.1)"
            )
        if s.failures:
            lines.append(f"fuzz: {len(s.failures)} failing case(s) saved:")
            lines += [f"  {path}" for path in s.failures]
        return lines

    def write_summary(self) -> Path:
        self.artifacts.mkdir(parents=True, exist_ok=True)
        path = self.artifacts / f"summary{worker_suffix()}.json"
        data = {
            **self.stats.as_dict(),
            "seed": self.seed,
            "examples": self.budget.examples,
            "users_created": self.pool.stats.users_created,
            "unsent_shared_executes": self.unsent,
        }
        path.write_text(json.dumps(data, indent=2))
        har.write(self.artifacts / f"cassette{worker_suffix()}.har", list(self.cassette), self._redact)
        return path

    def close(self) -> None:
        self.http.close()
        self.pool.close()


def integral_floats_as_ints(case: Case[Any]) -> None:
    """Send a schema-valid `48.0` for an integer field as `48`.

    JSON Schema counts 48.0 as an integer; whether an app does is not something the contract
    settles (section 4 says only "an integer"), so the fuzzer does not ask. Negative cases
    (1.5, "3", ...) are sent as generated.
    """
    body = case.body
    meta = case.meta
    if not isinstance(body, dict) or (meta is not None and meta.is_negative_at(ParameterLocation.BODY)):
        return
    for name in ("nextActions",):
        value = body.get(name)
        if isinstance(value, float) and value.is_integer():
            body[name] = int(value)


def failing_action_answer(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """The only server error a user whose actions fail may get: 500 `execution_failed` (section 6)."""
    if response.status_code < 500:
        return None
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if response.status_code != 500 or not isinstance(error, dict) or error.get("code") != "execution_failed":
        text = response.content.decode("utf-8", "replace")[:300] if response.content else ""
        raise AssertionError(
            "an action set to fail (failingActions, section 4) answers 500 execution_failed "
            f"(section 6); any other server error is a bug: got {response.status_code} {text!r}"
        )
    return None


def response_checks(free: str | None, action_may_fail: bool) -> dict[str, Any]:
    """The `case.validate_response` keywords that judge one answer.

    `free`: why the contract leaves this answer free (`free_answer`), or None: then every
    default check and the contract's run, else only "no server error" and section 1.
    `action_may_fail`: the case acts as a user whose actions are set to fail, so 500
    `execution_failed` is the contract's answer on either path (a long Idempotency-Key, on
    which the contract is silent, may well reach the action); any other 5xx still fails.
    """
    if free is not None:
        server = failing_action_answer if action_may_fail else not_a_server_error
        return {"checks": [server, *CONTRACT_CHECKS]}
    if action_may_fail:
        return {
            "additional_checks": [ignored_auth_once, *CONTRACT_CHECKS, failing_action_answer],
            "excluded_checks": [ignored_auth, not_a_server_error],
        }
    return {"additional_checks": [ignored_auth_once, *CONTRACT_CHECKS], "excluded_checks": [ignored_auth]}


def free_answer(case: Case[Any]) -> str | None:
    """Why the contract leaves the answer to `case` free, or None when it does not."""
    if case.method.upper() != case.operation.method.upper():
        return "a wrong method on a known path is free (section 1)"
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return None
    negative = {loc for loc, info in meta.components.items() if info.mode.is_negative}
    if negative == {ParameterLocation.BODY} and _operation_id(case) == "createFixtures" and _blank(case.body):
        # A missing or zero-length body means {}; one of only whitespace may mean {} or be 400 (v1.1).
        return "a fixtures body of only whitespace may mean {} or be invalid_body (section 4, v1.1)"
    if negative == {ParameterLocation.HEADER}:
        # Idempotency-Key: keys of 1..255 characters MUST be accepted; the contract is silent
        # on longer ones (and on other headers), so any non-5xx answer is fine.
        return "the contract is silent on this header value (section 6)"
    return None


def _operation_id(case: Case[Any]) -> str | None:
    operation_id = case.operation.definition.raw.get("operationId")
    return operation_id if isinstance(operation_id, str) else None


def _blank(body: object) -> bool:
    """A raw body (text or bytes) of only whitespace, or of nothing."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    return isinstance(body, str) and not body.strip()


def free_response(case: Case[Any], status: int) -> str | None:
    """Why the contract leaves this answer's body free, or None: a logout's 200 (section 2)."""
    if _operation_id(case) == "logout" and status == 200:
        return "the body of a logout's 200 is free, and whether it clears the cookie (section 2)"
    return None


class FuzzSummary:
    """A plugin object: prints the figures in the terminal summary, fails a run that reached
    little (mostly 401 or 429, `contracts.fuzz.reach`) or was 429-flooded."""

    def __init__(self) -> None:
        self.sessions: list[FuzzSession] = []
        self._closed = False

    def _finish(self) -> None:
        if self._closed:
            return
        self._closed = True
        for session in self.sessions:
            session.write_summary()
            session.close()

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._finish()
        for fuzz in self.sessions:
            stats = fuzz.stats
            # Enough answers for a share to mean something.
            if stats.requests >= 50 and stats.non_429_share < NON_429_GOAL:
                fuzz.below_goal = True
            fuzz.reach_problems = reach.reach_problems(stats.by_operation)
            if (fuzz.below_goal or fuzz.reach_problems) and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

        workeroutput = getattr(getattr(session, "config", None), "workeroutput", None)
        if workeroutput is not None:
            # A worker's terminal summary is never shown: the controller prints these
            # (contracts/fuzz/fixtures.py, pytest_testnodedown).
            workeroutput[WORKER_OUTPUT_KEY] = {
                "lines": [line for fuzz in self.sessions for line in fuzz.summary_lines()],
                "failures": [line for fuzz in self.sessions for line in failure_lines(fuzz)],
            }

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        terminalreporter.write_sep("=", "contract fuzzing")
        for fuzz in self.sessions:
            for line in fuzz.summary_lines():
                terminalreporter.write_line(line)
            for line in failure_lines(fuzz):
                terminalreporter.write_line(line, red=True)


#: The key under which a pytest-xdist worker hands its fuzzing summary to the controller.
WORKER_OUTPUT_KEY = "contract_fuzz_summary"


def failure_lines(fuzz: FuzzSession) -> list[str]:
    """Why the run's fuzzing failed as a whole (empty when it did not)."""
    lines = []
    if fuzz.below_goal:
        lines.append(
            f"fuzz: FAILED: fewer than {NON_429_GOAL:.0%} of the answers were not 429: "
            "the user rotation did not keep inside the rate limit"
        )
    lines += [f"fuzz: FAILED: {problem}" for problem in fuzz.reach_problems]
    return lines
