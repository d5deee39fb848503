"""Sliding-window rate limiter kept in the database (shared by every server process).

At most LIMIT counted requests per bucket in any WINDOW seconds. A request is
counted when it is allowed; requests answered 429 are NOT counted, so Retry-After
is exact: after waiting it out (with no other request) the next request passes.

Hits are stored as epoch seconds. A hit at time t counts at time `now` while
`t > now - WINDOW`. The critical section is one write transaction: BEGIN IMMEDIATE
on SQLite, a transaction-scoped advisory lock on the bucket on PostgreSQL.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import delete, select

from refapp import readings
from refapp.db import Database
from refapp.models import RateLimitHit
from refapp.timeutil import epoch

LIMIT = 20
WINDOW = 60.0


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int | None = None
    remaining: int = 0


def retry_after_seconds(release_at: float, now: float, window: float = WINDOW) -> int:
    """Whole seconds (rounded up) until `release_at`, clamped to 1..window."""
    seconds = math.ceil(release_at - now - 1e-9)
    return max(1, min(int(window), seconds))


def check(hit_times: list[float], now: float, *, limit: int = LIMIT, window: float = WINDOW) -> Decision:
    """Decide on a request at `now` given the counted hit times (pure; for tests too)."""
    live = sorted(t for t in hit_times if t > now - window)
    if len(live) < limit:
        return Decision(allowed=True, remaining=limit - len(live) - 1)
    # The request passes once enough of the oldest hits have left the window.
    release_at = live[len(live) - limit] + window
    return Decision(allowed=False, retry_after=retry_after_seconds(release_at, now, window))


def hit(database: Database, bucket: str, *, limit: int = LIMIT, window: float = WINDOW) -> Decision:
    """Count a request against `bucket` if the budget allows it (atomic across processes)."""
    with database.write() as session:
        database.lock(session, f"ratelimit:{bucket}")
        now = epoch()  # read the clock only once the lock is held
        session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.at <= now - window))
        times = list(session.execute(select(RateLimitHit.at).where(RateLimitHit.bucket == bucket)).scalars())
        decision = check(times, now, limit=limit, window=window)
        if decision.allowed:
            session.add(RateLimitHit(bucket=bucket, at=now))
        elif readings.other("count_429s"):
            # This 429 counts too, so the wait is measured with it in the window.
            session.add(RateLimitHit(bucket=bucket, at=now))
            decision = check([*times, now], now, limit=limit, window=window)
        if not decision.allowed and readings.other("retry_after_60"):
            decision = Decision(allowed=False, retry_after=int(window))
        return decision


def purge(database: Database, *, window: float = WINDOW) -> int:
    """Drop hits that can no longer count, for every bucket."""
    with database.write() as session:
        result = session.execute(delete(RateLimitHit).where(RateLimitHit.at <= epoch() - window))
        return int(getattr(result, "rowcount", 0) or 0)
