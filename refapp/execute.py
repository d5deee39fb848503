"""The execute request's steps behind the route (section 6): body, id, idempotency, run.

The route (`refapp/routes/execute.py`) runs them in the contract's order: 1 auth, 2 rate
limit, 3 body (`parse_action_key`), then `run`: 4 the id, 5 the Idempotency-Key, 6 the
action (`refapp/actions.py`). Refusals are raised as `refapp.refusals` errors. An answer
that the action or a replay gives is returned as an `Answer` (it is what the key stores).
Most of the rest are the broken builds' side paths (refapp/faults/execute_*.py).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Any

from refapp import actions, idempotency, ratelimit, readings
from refapp.auth import Caller, resolve_caller
from refapp.config import Settings
from refapp.db import Database
from refapp.next_actions import owned_next_action
from refapp.refusals import InvalidActionKey, InvalidBody, InvalidIdempotencyKey

REPLAYED = {"Idempotent-Replayed": "true"}
#: How long the broken build `no_in_flight_guard` holds a request with a key it missed, waiting for a
#: second one with the same key to miss too (a lone request goes on after this).
RACE_WINDOW_SECONDS = 5.0


@dataclass(frozen=True)
class Answer:
    """An execute answer: status, JSON body and headers (a replay carries `Idempotent-Replayed: true`)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def replayed(self) -> bool:
        return self.headers.get("Idempotent-Replayed") == "true"


def parse_action_key(body: object, settings: Settings) -> str:
    """Step 3: the actionKey of an execute body; InvalidBody or InvalidActionKey otherwise."""
    if not isinstance(body, dict):
        if settings.is_broken("bad_body_500") and isinstance(body, list):
            raise TypeError("list indices must be integers or slices, not str")
        raise InvalidBody()
    if settings.is_broken("missing_action_key_invalid_body") and "actionKey" not in body:
        raise InvalidBody("actionKey is required.")
    action_key = body.get("actionKey")
    if settings.is_broken("action_key_case_insensitive") and isinstance(action_key, str):
        action_key = action_key.lower()
    if not isinstance(action_key, str) or action_key not in actions.ACTION_KEYS:
        raise InvalidActionKey("actionKey is not a known action.")
    return action_key


def idempotency_key(header: str | None, settings: Settings) -> str | None:
    """Step 5: the key to use for an Idempotency-Key header (None: no key); InvalidIdempotencyKey."""
    key = header
    if settings.is_broken("empty_key_is_a_key") and key is not None:
        pass  # an empty value is stored as a key like any other
    elif settings.is_broken("empty_key_refused") and key == "":
        raise InvalidIdempotencyKey("Idempotency-Key must not be empty.")
    elif not key:
        return None
    if settings.is_broken("key_max_64") and len(key) > 64:
        raise InvalidIdempotencyKey("Idempotency-Key must be 1 to 64 characters.")
    if settings.is_broken("key_case_folded"):
        key = key.lower()
    if settings.is_broken("key_truncated_to_64"):
        key = key[:64]  # a 64-character column that silently truncates
    if settings.is_broken("long_idempotency_key_500") and len(key) > 200:
        raise RuntimeError("idempotency key column overflow")
    if len(key) > idempotency.MAX_KEY_LENGTH:
        if readings.other("long_keys_accepted"):
            # Stored by digest: the column holds 255 characters, and "~" cannot start a hex digest.
            return "~sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        raise InvalidIdempotencyKey("Idempotency-Key must be 1 to 255 characters.")
    return key


def rate_limit_bucket(settings: Settings, caller: Caller, *, forwarded_for: str, client_host: str, nba_id: str) -> str:
    """Step 2: whose budget a request spends (the user's; the broken builds key it otherwise)."""
    if settings.is_broken("xff_budget"):
        forwarded = forwarded_for.split(",")[0].strip()
        if forwarded:
            return f"xff:{forwarded}"
    if settings.is_broken("budget_per_session"):
        return f"session:{caller.session_id}"
    if settings.is_broken("budget_per_address"):
        return f"address:{client_host}"
    if settings.is_broken("budget_per_next_action"):
        return f"next-action:{nba_id}"
    return f"user:{caller.user_id}"


# Broken build `logged_out_token_counts`: the limiter's token -> user cache, which logout does not clear.
LIMITER_TOKEN_CACHE: dict[str, str] = {}


def charge_cached_token(database: Database, token: str | None) -> None:
    """Broken build `logged_out_token_counts`: a dead token the cache still knows spends its user's budget."""
    user_id = LIMITER_TOKEN_CACHE.get(token or "")
    if user_id is not None and resolve_caller(database, token) is None:
        ratelimit.hit(database, f"user:{user_id}")  # charged before auth answers 401


def refund_broken(database: Database, settings: Settings, bucket: str, status: int, replayed: bool) -> None:
    """The broken builds that uncount a request by its answer (a "requests that did no work are free" design)."""
    if (
        (replayed and settings.is_broken("replays_not_counted"))
        or (status == 400 and settings.is_broken("client_errors_not_counted"))
        or (status == 404 and settings.is_broken("not_found_not_counted"))
        or (status == 500 and settings.is_broken("failures_not_counted"))
    ):
        ratelimit.refund(database, bucket)


def store_early_answer(
    database: Database,
    settings: Settings,
    caller: Caller,
    nba_id: str,
    key: str | None,
    *,
    status: int,
    code: str,
    message: str,
) -> None:
    """The broken builds that store a key with an answer given before step 5."""
    if key and (
        (status == 400 and settings.is_broken("invalid_body_uses_key"))
        or (status == 404 and settings.is_broken("not_found_uses_key"))
    ):
        body = {"ok": False, "error": {"code": code, "message": message}}
        idempotency.store(database, caller.user_id, key, nba_id, "", status, body)


def lookup_replay(database: Database, caller: Caller, key: str) -> Answer | None:
    """Broken build `replay_before_body_check`: the stored answer of a used key, looked up before steps 3 and 4."""
    stored = idempotency.lookup(database, caller.user_id, key)
    return None if stored is None else Answer(stored.status, stored.body, REPLAYED)


_missed: dict[tuple[str, str], int] = {}
_missed_changed = threading.Condition()


def _meet_a_twin(user_key: tuple[str, str]) -> None:
    """The race's window, made certain: after a miss, wait (bounded) until a second request with
    the same key has missed too. A fixed pause was luck on a loaded machine, where concurrent
    requests can drift further apart than any pause."""
    with _missed_changed:
        _missed[user_key] = _missed.get(user_key, 0) + 1
        _missed_changed.notify_all()
        _missed_changed.wait_for(lambda: _missed[user_key] >= 2, timeout=RACE_WINDOW_SECONDS)


def _run_without_guard(
    database: Database, settings: Settings, caller: Caller, nba_id: str, action_key: str, key: str
) -> Answer:
    """Broken build `no_in_flight_guard`: look the key up, run, then store it (check-then-act, no claim)."""
    stored = idempotency.lookup(database, caller.user_id, key)
    if stored is not None:
        return Answer(stored.status, stored.body, REPLAYED)
    _meet_a_twin((caller.user_id, key))
    outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
    idempotency.store(database, caller.user_id, key, nba_id, action_key, outcome.status, outcome.body)
    return Answer(outcome.status, outcome.body)


def run(
    database: Database,
    settings: Settings,
    caller: Caller,
    nba_id: str,
    action_key: str,
    key_header: str | None,
) -> Answer:
    """Steps 4 (the id), 5 (the Idempotency-Key) and 6 (the action, or the replay of a used key)."""
    if not (settings.is_broken("unknown_id_500") or settings.is_broken("execute_ignores_owner")):
        owned_next_action(database, settings, caller.user_id, nba_id)  # 4. the id
    key = idempotency_key(key_header, settings)  # 5. idempotency
    first = {"Idempotent-Replayed": "false"} if readings.other("replayed_false") else {}
    if key is None:
        outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
        return Answer(outcome.status, outcome.body, first)
    if settings.is_broken("no_in_flight_guard"):
        return _run_without_guard(database, settings, caller, nba_id, action_key, key)
    wait = 0.0 if readings.other("in_flight_409") else idempotency.WAIT_SECONDS
    claim = idempotency.claim(
        database, caller.user_id, key, nba_id, action_key, wait_seconds=wait, is_broken=settings.is_broken
    )
    if isinstance(claim, idempotency.Stored):
        if settings.is_broken("replay_executes"):
            outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
            return Answer(outcome.status, outcome.body, REPLAYED)
        replayed = {} if settings.is_broken("replay_without_header") else REPLAYED
        if settings.is_broken("replay_new_execution_id") and "executionId" in claim.body:
            claim = idempotency.with_new_execution_id(claim)
        if settings.is_broken("replay_always_200"):
            return Answer(200, claim.body, replayed)
        return Answer(claim.status, claim.body, replayed)
    try:
        outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, claim.key_id)
    except BaseException:
        idempotency.release(database, claim.key_id)
        raise
    if outcome.status == 500 and settings.is_broken("failed_replay_reruns"):
        idempotency.forget(database, caller.user_id, key)  # "let the client retry a failure"
    return Answer(outcome.status, outcome.body, first)
