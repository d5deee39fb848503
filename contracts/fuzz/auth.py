"""Who the fuzzer is: fresh fixtures users, rotated before their rate-limit budget runs out.

The execute route allows 20 requests per user in any 60 seconds (section 6), and every
authenticated request to it counts, whatever it answers. A naive fuzz run floods 429s. The
`UserPool` creates a brand-new user through POST /api/e2e/fixtures (with queued next actions,
so generated `{id}` path parameters can be replaced by ids the user owns and positive cases
reach step 6), spends at most `budget` (18) authenticated execute requests per user, and then
moves on to the next fresh user.

Where the target has no fixtures endpoint, the pool falls back to the E2E_EMAIL /
E2E_PASSWORD account and its queued next actions; its execute requests then reserve the run's
shared budget (testkit/budget.py, through testkit/items.py's hand-out, which also gives it the
run's one token and the items it may act on), or, outside pytest (`st run`), are throttled by
schemathesis' own rate limiter (`build_limiter("18/m")`), so one account's single budget is
never overrun.

`RotatingFixtureAuth` wraps the pool as a schemathesis auth provider for `st run` (loaded
through `contracts.fuzz.hooks`); the pytest path applies the pool at send time instead
(`UserPool.authorize`), where the count is exact.
"""

from __future__ import annotations

import os
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx
from requests.structures import CaseInsensitiveDict
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.rate_limit import build_limiter, ratelimit
from schemathesis.generation.case import Case

from contracts import api as c
from testkit import items as shared_items

EXECUTE_OPERATION = "executeNextAction"
RATE_BUDGET = 18  # of the contract's 20 per 60 s: two to spare for anything uncounted
NEXT_ACTIONS_PER_USER = 5
#: Out of 8 generated `{id}` values, this many are replaced by an id the user owns.
#: Of 8 generated `{id}` values: 5 become an id the user owns; 1 an id of a user whose every
#: action fails inside (`failingActions`, section 4), acting as that user, so failed
#: executions (and what their messages leak) are exercised; 1 another user's id (which must
#: answer 404 exactly like an unknown one, section 2); 1 is sent as generated.
FAILING_USER_EIGHTH = 5
FOREIGN_ID_EIGHTH = 6


class NoFuzzUser(RuntimeError):
    """Neither the fixtures endpoint nor E2E_EMAIL / E2E_PASSWORD give the fuzzer a user."""


@dataclass
class FuzzUser:
    email: str
    password: str
    token: str
    next_action_ids: list[str]
    lead_id: str | None
    from_fixtures: bool
    spent: int = 0
    #: The user was logged in again elsewhere (a login case with its credentials, a logout
    #: case's own token): its token may be dead, so it logs in afresh before its next use.
    stale: bool = False


@dataclass
class PoolStats:
    users_created: int = 0
    logins: int = 0
    #: Tokens found dead (401 on a token the pool had not logged out) and replaced.
    revived: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


def _operation_id(case: Case[Any]) -> str | None:
    value = case.operation.definition.raw.get("operationId")
    return str(value) if value is not None else None


def security_negated(case: Case[Any]) -> bool:
    try:
        return bool(case.operation.schema.is_security_param_negated(case))
    except Exception:
        return False


def _negative_at(case: Case[Any], location: ParameterLocation) -> bool:
    meta = case.meta
    return meta is not None and meta.is_negative_at(location)


def _slot(value: Any) -> tuple[int, int]:
    """(eighth, spread): deterministic in the generated value, so a seeded run repeats."""
    digest = zlib.crc32(repr(value).encode())
    return digest % 8, digest // 8


def _ids_for(case: Case[Any], user: FuzzUser) -> list[str]:
    if case.operation.path.startswith("/api/leads/"):
        return [user.lead_id] if user.lead_id else []
    return user.next_action_ids


class UserPool:
    """Fresh fixtures users (or the shared E2E_EMAIL account), rotated every `budget` executes."""

    def __init__(
        self,
        base_url: str,
        *,
        budget: int = RATE_BUDGET,
        use_fixtures: bool | None = None,
        http: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self._http = http or c.client(self.base_url)
        self._lock = threading.RLock()
        self._use_fixtures = use_fixtures
        self._current: FuzzUser | None = None
        self._logout_user: FuzzUser | None = None
        self._foreign: FuzzUser | None = None
        self._failing: FuzzUser | None = None
        self._login_user: FuzzUser | None = None
        self._failing_tokens: set[str] = set()
        self._limiter: Any = None
        self._tokens: dict[str, str] = {}
        self.stats = PoolStats()
        #: Execute requests sent as the shared account (bounded by E2E_FUZZ_SHARED_EXECUTES).
        self.shared_executes = 0

    # ------------------------------------------------------------------ users

    @property
    def use_fixtures(self) -> bool:
        if self._use_fixtures is None:
            self._use_fixtures = c.fixtures_available(self._http)
        return self._use_fixtures

    @property
    def uses_fixtures_if_known(self) -> bool:
        """Whether the pool makes fixtures users (True until it has asked the target)."""
        return self._use_fixtures is not False

    def _new_user(self, failing_actions: tuple[str, ...] = ()) -> FuzzUser:
        if self.use_fixtures:
            data = c.create_fixture(self._http, next_actions=NEXT_ACTIONS_PER_USER, failing_actions=failing_actions)
            token = c.login(self._http, data.email, data.password)
            if failing_actions:
                self._failing_tokens.add(token)
            self.stats.users_created += 1
            return self._remember(
                FuzzUser(
                    email=data.email,
                    password=data.password,
                    token=token,
                    next_action_ids=[ref.id for ref in data.next_actions],
                    lead_id=data.lead_id,
                    from_fixtures=True,
                )
            )
        email, password = os.environ.get("E2E_EMAIL"), os.environ.get("E2E_PASSWORD")
        if not email or not password:
            raise NoFuzzUser(
                "the target has no POST /api/e2e/fixtures (404) and E2E_EMAIL / E2E_PASSWORD "
                "are unset: the fuzzer has no user to authenticate as"
            )
        account = shared_items.active()
        if account is not None:
            token = account.token(lambda: c.login(self._http, email, password))
        else:
            token = c.login(self._http, email, password)
            self.stats.logins += 1
        response = self._http.get(c.NEXT_ACTIONS_PATH, params={"status": "queued"}, headers=c.auth_headers(token))
        items = c.items_of(response)
        return self._remember(
            FuzzUser(
                email=email,
                password=password,
                token=token,
                next_action_ids=[str(i["id"]) for i in items],
                lead_id=str(items[0]["leadId"]) if items else None,
                from_fixtures=False,
            )
        )

    def current(self) -> FuzzUser:
        with self._lock:
            if self._current is None:
                self._current = self._new_user()
            return self._fresh(self._current)

    def _fresh(self, user: FuzzUser) -> FuzzUser:
        """`user`, logged in again first when its token may have died (see FuzzUser.stale)."""
        if user.stale:
            self._relogin(user)
        account = shared_items.active()
        if account is not None and not user.from_fixtures:
            # Whatever token the run holds now (another process may have renewed it).
            user.token = account.token(lambda: c.login(self._http, user.email, user.password))
            self._remember(user)
        return user

    def _relogin(self, user: FuzzUser) -> None:
        old = user.token
        account = shared_items.active()
        if account is not None and not user.from_fixtures:
            # The run's one token of the shared account: renewed once for every process.
            user.token = account.renew(old, lambda: c.login(self._http, user.email, user.password))
        else:
            user.token = c.login(self._http, user.email, user.password)
        user.stale = False
        self.stats.logins += 1
        if old in self._failing_tokens:
            self._failing_tokens.add(user.token)
        self._remember(user)

    def revive(self, authorization: str) -> str | None:
        """After a 401 on a pool user's token: if the token is dead, log that user in again.

        A target may end a user's earlier sessions when it logs in again (free, v1.1), and the
        shared E2E_EMAIL account is logged in by other tests too. Returns the new token when
        the old one was dead (counted in `stats.revived`, which the summary prints), else None.
        """
        token = authorization.partition(" ")[2]
        with self._lock:
            users = [u for u in (self._current, self._failing) if u is not None and u.token == token]
            if not users:
                return None
            probe = self._http.get(c.NEXT_ACTIONS_PATH, headers=c.auth_headers(token))
            if probe.status_code != 401:
                return None
            self._relogin(users[0])
            self.stats.revived += 1
            return users[0].token

    def spend(self, *, failing: bool = False, post: bool = True) -> FuzzUser:
        """The user for one authenticated execute request: a fresh one once `budget` is spent.

        `failing`: the user whose actions all fail. The shared account cannot be swapped: its
        requests wait for schemathesis' limiter.
        """
        with self._lock:
            user = self._failing_user() if failing else self.current()
            if user.spent >= self.budget and user.from_fixtures:
                if failing:
                    user = self._failing = self._new_user(c.ACTION_KEYS)
                else:
                    user = self._current = self._new_user()
            user.spent += 1
        if not user.from_fixtures:
            if not post:
                # A wrong method on the path is not a request to the POST route whose requests
                # count (section 6); it is turned away first.
                return user
            self.shared_executes += 1
            account = shared_items.active()
            if account is not None:
                account.budget.reserve()
            else:
                if self._limiter is None:
                    self._limiter = build_limiter(f"{self.budget}/m")
                ratelimit(self._limiter, self.base_url)
        return user

    def use_shared_items(self, lead_id: str, ids: list[str]) -> None:
        """Act, as the shared account, only on these items (the ones the test holds)."""
        with self._lock:
            user = self.current()
            if not user.from_fixtures:
                user.lead_id, user.next_action_ids = lead_id, list(ids)

    def fresh_token(self) -> str:
        """A token of its own for a logout case: logging out never kills the pool's token.

        With fixtures, the logout cases have a user of their own. The shared account has
        only itself: logging it in again may end the pool's session (free, v1.1), so the
        pool logs in afresh before its next request.
        """
        with self._lock:
            if self._logout_user is None:
                self._logout_user = self._new_user() if self.use_fixtures else self.current()
            user = self._logout_user
            self.stats.logins += 1
            token = c.login(self._http, user.email, user.password)
            self._tokens[token] = user.email
            if user is self._current:
                user.stale = True
            return token

    # ------------------------------------------------------------------ cases

    def authorize(self, case: Case[Any]) -> dict[str, str]:
        """Make `case` act as a pool user; returns the headers to send with it."""
        return self.authorize_case(case)[0]

    def authorize_case(self, case: Case[Any]) -> tuple[dict[str, str], bool]:
        """Make `case` act as a pool user: (headers to send, whether the action may fail).

        Unless the case is negative in that place: the `{id}` path parameter becomes an id the
        user owns (5 times in 8), an id of the user whose actions all fail, acting as that
        user (1 in 8), or another user's id (1 in 8); login bodies sometimes carry the user's
        real credentials, and the auth header is the user's bearer token (the cron route gets
        E2E_CRON_SECRET).
        Negative security cases are sent as generated.
        """
        op = _operation_id(case)
        self.stats.by_operation[op or "?"] = self.stats.by_operation.get(op or "?", 0) + 1
        if op in ("health", "createFixtures"):
            return {}, False
        if op == "login":
            self._maybe_real_credentials(case)
            return {}, False
        if op == "runBackgroundJobs":
            secret = os.environ.get("E2E_CRON_SECRET", "")
            return (c.auth_headers(secret) if secret and not security_negated(case) else {}), False
        if security_negated(case):
            return {}, False
        if op == "logout":
            return c.auth_headers(self.fresh_token()), False
        eighth, spread = self._slot_of(case)
        failing = eighth == FAILING_USER_EIGHTH and self.use_fixtures
        if op == EXECUTE_OPERATION:
            user = self.spend(failing=failing, post=case.method.upper() == "POST")
        else:
            user = self._failing_user() if failing else self.current()
        owner = self._foreign_user() if eighth == FOREIGN_ID_EIGHTH and self.use_fixtures else user
        if eighth <= FOREIGN_ID_EIGHTH:
            ids = _ids_for(case, owner)
            if ids:
                case.path_parameters["id"] = ids[spread % len(ids)]
        # A generated session cookie next to a valid bearer token makes "which one wins"
        # (free, section 2) decide the answer: send only the token.
        if case.cookies and "session" in case.cookies:
            del case.cookies["session"]
        return c.auth_headers(user.token), failing and op == EXECUTE_OPERATION

    @staticmethod
    def _slot_of(case: Case[Any]) -> tuple[int, int]:
        """Which kind of id the case gets (see OWN_ID...); 7 (as generated) for no/negative id."""
        if "id" not in (case.path_parameters or {}) or _negative_at(case, ParameterLocation.PATH):
            return 7, 0
        return _slot(case.path_parameters["id"])

    def _failing_user(self) -> FuzzUser:
        """A fixtures user made with every action key in `failingActions`."""
        with self._lock:
            if self._failing is None:
                self._failing = self._new_user(c.ACTION_KEYS)
            return self._fresh(self._failing)

    def _login_target(self) -> FuzzUser:
        """Whose real credentials a login case carries.

        A login may end the user's earlier sessions (free, v1.1), so with fixtures the login
        cases log in a user of their own, whose token the pool never sends. The shared
        account has only itself: it is marked to log in afresh before its next request.
        """
        with self._lock:
            if not self.use_fixtures:
                user = self.current()
                user.stale = True
                return user
            if self._login_user is None:
                self._login_user = self._new_user()
            return self._login_user

    def _foreign_user(self) -> FuzzUser:
        """Another fixtures user, whose ids the pool's users must not see (section 2)."""
        with self._lock:
            if self._foreign is None:
                self._foreign = self._new_user()
            return self._foreign

    def _maybe_real_credentials(self, case: Case[Any]) -> None:
        body = case.body
        if not isinstance(body, dict) or _negative_at(case, ParameterLocation.BODY):
            return
        if zlib.crc32(repr(body).encode()) % 3 == 0:
            user = self._login_target()
            body["email"], body["password"] = user.email, user.password

    def login(self, email: str, password: str) -> str:
        """Log a user in (one the stateful run adopted); its token is redacted like the pool's."""
        token = c.login(self._http, email, password)
        with self._lock:
            self.stats.logins += 1
            self._tokens[token] = email
        return token

    def acts_as_failing_user(self, authorization: str) -> bool:
        """Whether an Authorization header carries the token of the user whose actions fail."""
        token = authorization.partition(" ")[2]
        with self._lock:
            return token in self._failing_tokens

    def known_tokens(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def describe_token(self, authorization: str) -> dict[str, str] | None:
        """Whose token an Authorization header carries (for a failing case's replay)."""
        token = authorization.partition(" ")[2]
        email = self._tokens.get(token)
        return None if email is None else {"email": email}

    def _remember(self, user: FuzzUser) -> FuzzUser:
        self._tokens[user.token] = user.email
        return user

    def close(self) -> None:
        self._http.close()


class RotatingFixtureAuth:
    """The pool as a schemathesis auth provider, for `st run` (see `contracts.fuzz.hooks`).

    schemathesis applies auth when it generates a case; the pool counts there, which is exact
    as long as every generated case is sent once (true of `st run` without retries).
    """

    pool: UserPool | None = None

    def get(self, case: Case[Any], ctx: Any) -> dict[str, str]:
        assert self.pool is not None, "set RotatingFixtureAuth.pool before the run"
        return self.pool.authorize(case)

    def set(self, case: Case[Any], data: dict[str, str], ctx: Any) -> None:
        if data:
            if case.headers is None:
                case.headers = CaseInsensitiveDict()
            case.headers.update(data)
