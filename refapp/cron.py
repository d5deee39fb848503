"""POST /api/cron/background-jobs: process queued jobs under a single lock.

Lock: `pg_try_advisory_lock` (session level, on a dedicated connection) on
PostgreSQL; on SQLite a row in `cron_locks` holding a holder id and a lease
(LEASE_SECONDS), taken and released in BEGIN IMMEDIATE transactions. A crashed
holder's lease simply runs out.

Each job is claimed and processed in one write transaction (its status moves from
queued to done/failed there), so a job is processed exactly once even if two runs
overlapped.

The caller must send the cron secret (`authorized`; `authorized_broken` is the broken builds'
way of checking it).
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select, text, update

from refapp import idempotency, ratelimit, readings
from refapp.actions import EVENT_RETRY_STUB, RETRY_JOB
from refapp.auth import resolve_caller
from refapp.config import Settings
from refapp.db import Database, advisory_key
from refapp.models import CronLock, Job, NextAction, OpsEvent, new_id
from refapp.refusals import Forbidden
from refapp.timeutil import epoch, utcnow

log = logging.getLogger("refapp")

LOCK_NAME = "background-jobs"
LEASE_SECONDS = 120.0
MAX_JOBS_PER_RUN = 1000


@contextmanager
def _pg_lock(database: Database) -> Iterator[bool]:
    key = advisory_key(f"cron:{LOCK_NAME}")
    with database.engine.connect() as connection:
        acquired = bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        connection.commit()
        try:
            yield acquired
        finally:
            if acquired:
                try:
                    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    connection.commit()
                except Exception:
                    connection.invalidate()  # closing the session releases the lock
                    raise


@contextmanager
def _sqlite_lock(database: Database) -> Iterator[bool]:
    holder = new_id()
    with database.write() as session:
        database.lock(session, "cron")
        now = epoch()
        row = session.get(CronLock, LOCK_NAME)
        if row is None:
            session.add(CronLock(name=LOCK_NAME, holder=holder, lease_until=now + LEASE_SECONDS))
            acquired = True
        elif row.holder is not None and row.lease_until > now:
            acquired = False
        else:
            row.holder = holder
            row.lease_until = now + LEASE_SECONDS
            acquired = True
    try:
        yield acquired
    finally:
        if acquired:
            with database.write() as session:
                session.execute(
                    update(CronLock)
                    .where(CronLock.name == LOCK_NAME, CronLock.holder == holder)
                    .values(holder=None, lease_until=0.0)
                )


def cron_lock(database: Database) -> Any:
    return _pg_lock(database) if database.is_postgresql else _sqlite_lock(database)


def _process(job: Job, database: Database, session: Any, settings: Settings | None = None) -> str:
    if job.kind == RETRY_JOB:
        payload = json.loads(job.payload_json)
        nba_id = payload.get("nextActionId") if isinstance(payload, dict) else None
        nba = session.get(NextAction, nba_id) if isinstance(nba_id, str) else None
        if nba is None:
            return "failed"
        lost_id = settings is not None and settings.is_broken("retry_event_without_next_action")
        session.add(
            OpsEvent(
                id=new_id(),
                user_id=nba.user_id,
                type=EVENT_RETRY_STUB,
                at=utcnow(),
                next_action_id=None if lost_id else nba.id,
                action_key=None if readings.other("retry_stub_nulls") else RETRY_JOB,
                execution_id=None,
            )
        )
        return "done"
    log.warning("unknown job kind %r", job.kind)
    return "failed"


def _process_one(database: Database, settings: Settings | None = None, seen: set[str] | None = None) -> bool:
    with database.write() as session:
        database.lock(session, "jobs")
        query = select(Job).where(Job.status == "queued").order_by(Job.created_at, Job.id).limit(1)
        if seen:
            query = query.where(Job.id.not_in(list(seen)))
        if database.is_postgresql:
            query = query.with_for_update(skip_locked=True)
        job = session.execute(query).scalar_one_or_none()
        if job is None:
            return False
        outcome = _process(job, database, session, settings)
        if seen is not None:
            # The broken build forgets to save the job's new status: it stays queued for the next run.
            seen.add(job.id)
        else:
            job.status = outcome
        job.processed_at = utcnow()
        return True


def run_background_jobs(database: Database, settings: Settings | None = None) -> dict[str, Any]:
    with cron_lock(database) as acquired:
        if not acquired:
            if readings.other("cron_skipped_null"):
                return {"ok": True, "skipped": "locked", "processed": None}
            return {"ok": True, "skipped": "locked"}
        processed = 0
        seen: set[str] | None = None
        if settings is not None and settings.is_broken("cron_job_not_marked_done"):
            seen = set()
        while processed < MAX_JOBS_PER_RUN and _process_one(database, settings, seen):
            processed += 1
        ratelimit.purge(database)
        idempotency.purge(database)
        if readings.other("cron_skipped_null"):
            return {"ok": True, "processed": processed, "skipped": None}
        return {"ok": True, "processed": processed}


def authorized(authorization: str, secret: str | None) -> bool:
    """Whether an Authorization header value carries the cron secret as a bearer token (no secret: never)."""
    if not secret:
        return False
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), secret.encode())


def authorized_broken(database: Database, settings: Settings, authorization: str) -> bool | None:
    """The broken builds' way of checking the cron secret (None: the healthy check decides)."""
    value = authorization.strip().partition(" ")[2].strip()
    if settings.is_broken("cron_secret_prefix") and settings.cron_secret:
        return value.startswith(settings.cron_secret)
    if settings.is_broken("cron_accepts_user_token") and value:
        return resolve_caller(database, value) is not None or None
    if settings.is_broken("cron_wrong_secret_403") and value and not authorized(authorization, settings.cron_secret):
        raise Forbidden("The cron secret is wrong.")
    return None
