"""Idempotency-Key handling for the execute route (after the IETF draft).

Keys are per user. The first request with a key that reaches step 5 claims it
(state `in_flight`); the answer of its execution is stored with the key (state
`done`) in the same transaction as the execution. Later requests with the key:

- same next action and actionKey, done: replay of the stored status and body;
- same next action and actionKey, still in flight: wait up to WAIT_SECONDS for the
  first to finish and replay it, else 409 `idempotency_key_in_flight`;
- another next action or actionKey: 422 `idempotency_key_reused`.

Keys are kept RETENTION (48 h, at least the 24 h of the contract); the cron run
purges older ones. Keys longer than MAX_KEY_LENGTH (255) are refused with 400
`invalid_idempotency_key` (by `refapp/execute.py`). The refusals are raised as
`refapp.refusals` errors; `refapp/errors.py` answers them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from refapp.db import Database
from refapp.models import IdempotencyKey, new_id
from refapp.refusals import IdempotencyKeyInFlight, IdempotencyKeyReused
from refapp.timeutil import utcnow

MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=48)
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Stored:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    key_id: str


class InFlight:
    pass


def _never(name: str) -> bool:
    return False


#: How long keys live in the build `keys_expire_fast` (seconds where hours were meant).
FAST_EXPIRY = timedelta(seconds=60)


def _try_claim(
    database: Database,
    user_id: str,
    key: str,
    next_action_id: str,
    action_key: str,
    is_broken: Callable[[str], bool] = _never,
) -> Stored | Claimed | InFlight:
    with database.write() as session:
        database.lock(session, f"idempotency:{user_id}:{key}")
        match = IdempotencyKey.key == key
        if not is_broken("keys_global"):
            match = match & (IdempotencyKey.user_id == user_id)
        row = session.execute(select(IdempotencyKey).where(match).limit(1)).scalar_one_or_none()
        if row is not None and is_broken("keys_expire_fast") and row.created_at < utcnow() - FAST_EXPIRY:
            session.delete(row)
            session.flush()
            row = None
        if row is not None:
            same_id = row.next_action_id == next_action_id or is_broken("reuse_other_id_replays")
            same_action = row.action_key == action_key or is_broken("reuse_other_action_replays")
            if not (same_id and same_action):
                raise IdempotencyKeyReused()
            if row.state == "done" and row.response_status is not None:
                return Stored(row.response_status, json.loads(row.response_body or "{}"))
            return InFlight()
        row = IdempotencyKey(
            user_id=user_id,
            key=key,
            next_action_id=next_action_id,
            action_key=action_key,
            state="in_flight",
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return Claimed(row.id)


def claim(
    database: Database,
    user_id: str,
    key: str,
    next_action_id: str,
    action_key: str,
    *,
    wait_seconds: float = WAIT_SECONDS,
    is_broken: Callable[[str], bool] = _never,
) -> Stored | Claimed:
    """Claim `key` for this request, or return the stored answer to replay.

    Raises IdempotencyKeyReused, or IdempotencyKeyInFlight (still in flight after waiting). `is_broken` names the
    deliberately broken build in use (refapp/faults/), if any.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            outcome = _try_claim(database, user_id, key, next_action_id, action_key, is_broken)
        except IntegrityError:
            outcome = InFlight()  # another process inserted it first; look again
        if not isinstance(outcome, InFlight):
            return outcome
        if time.monotonic() >= deadline:
            raise IdempotencyKeyInFlight()
        time.sleep(POLL_SECONDS)


def complete(session: Session, key_id: str, status: int, body: dict[str, Any]) -> None:
    """Store the answer with the key (inside the execution's transaction)."""
    row = session.get(IdempotencyKey, key_id)
    if row is None:  # pragma: no cover - the row is never deleted while in flight
        return
    row.state = "done"
    row.response_status = status
    row.response_body = json.dumps(body, separators=(",", ":"))


def release(database: Database, key_id: str) -> None:
    """Forget a claimed key whose request failed before anything ran."""
    with database.write() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == key_id, IdempotencyKey.state == "in_flight"))


def lookup(database: Database, user_id: str, key: str) -> Stored | None:
    """The stored answer of `key`, read without a claim (only broken builds use it)."""
    with database.read() as session:
        row = session.execute(
            select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        ).scalar_one_or_none()
        if row is None or row.state != "done" or row.response_status is None:
            return None
        return Stored(row.response_status, json.loads(row.response_body or "{}"))


def store(
    database: Database, user_id: str, key: str, next_action_id: str, action_key: str, status: int, body: dict[str, Any]
) -> None:
    """Store an answer with `key` unless the key is taken (only broken builds use it)."""
    try:
        with database.write() as session:
            session.add(
                IdempotencyKey(
                    user_id=user_id,
                    key=key,
                    next_action_id=next_action_id,
                    action_key=action_key[:64],
                    state="done",
                    response_status=status,
                    response_body=json.dumps(body, separators=(",", ":")),
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        pass


def with_new_execution_id(stored: Stored) -> Stored:
    """The stored answer with a made-up executionId (only the broken build `replay_new_execution_id`)."""
    return Stored(stored.status, {**stored.body, "executionId": new_id()})


def forget(database: Database, user_id: str, key: str) -> None:
    """Drop `key` whatever its state (only the broken build `failed_replay_reruns` uses it)."""
    with database.write() as session:
        session.execute(delete(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key))


def purge(database: Database) -> int:
    with database.write() as session:
        result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - RETENTION))
        return int(getattr(result, "rowcount", 0) or 0)
