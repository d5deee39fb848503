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
from collections.abc import Callable
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


def _never(name: str) -> bool:
    return False


def _broken_budget(limit: int, window: float, is_broken: Callable[[str], bool]) -> tuple[int, float]:
    """The limit and window of the deliberately broken builds (refapp/faults/execute_budget.py)."""
    if is_broken("rate_limit_21"):
        limit += 1
    if is_broken("rate_limit_19"):
        limit -= 1
    if is_broken("window_in_milliseconds"):
        window /= 1000  # the window meant in ms, the hits stored in seconds
    if is_broken("window_in_minutes"):
        window *= 60  # 60 minutes of window, while Retry-After still promises at most 60 s
    return limit, window


def _broken_check(
    times: list[float], now: float, limit: int, window: float, is_broken: Callable[[str], bool]
) -> Decision:
    """`check` with the deliberately broken builds of refapp/faults/execute_budget.py (tests only)."""
    if is_broken("fixed_window"):
        start = now - now % WINDOW  # the clock minute, not the last 60 s
        live = [t for t in times if t >= start]
        if len(live) < limit:
            return Decision(allowed=True, remaining=limit - len(live) - 1)
        return Decision(allowed=False, retry_after=retry_after_seconds(start + WINDOW, now))
    decision = check(times, now, limit=limit, window=window)
    if decision.allowed or decision.retry_after is None:
        return decision
    live = sorted(t for t in times if t > now - window)
    if is_broken("retry_after_in_minutes"):
        return Decision(allowed=False, retry_after=max(1, math.ceil(decision.retry_after / 60)))
    if is_broken("retry_after_elapsed"):  # the time since the oldest hit, not the time until it leaves
        return Decision(allowed=False, retry_after=retry_after_seconds(now + (now - live[0]), now))
    if is_broken("window_in_minutes"):  # the 1..60 clamp kept from the 60 s design
        return Decision(allowed=False, retry_after=min(decision.retry_after, int(WINDOW)))
    return decision


def hit(
    database: Database,
    bucket: str,
    *,
    limit: int = LIMIT,
    window: float = WINDOW,
    is_broken: Callable[[str], bool] = _never,
) -> Decision:
    """Count a request against `bucket` if the budget allows it (atomic across processes).

    `is_broken` names the deliberately broken build in use (refapp/faults/), if any.
    """
    if is_broken is not _never:
        limit, window = _broken_budget(limit, window, is_broken)
    with database.write() as session:
        database.lock(session, f"ratelimit:{bucket}")
        now = epoch()  # read the clock only once the lock is held
        session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.at <= now - window))
        times = list(session.execute(select(RateLimitHit.at).where(RateLimitHit.bucket == bucket)).scalars())
        if is_broken is _never:
            decision = check(times, now, limit=limit, window=window)
        else:
            decision = _broken_check(times, now, limit, window, is_broken)
        if decision.allowed:
            session.add(RateLimitHit(bucket=bucket, at=now))
        elif readings.other("count_429s"):
            # This 429 counts too, so the wait is measured with it in the window.
            session.add(RateLimitHit(bucket=bucket, at=now))
            decision = check([*times, now], now, limit=limit, window=window)
        if not decision.allowed and readings.other("retry_after_60"):
            decision = Decision(allowed=False, retry_after=int(window))
        return decision


def refund(database: Database, bucket: str) -> None:
    """Uncount the newest hit of `bucket` (only the broken builds that refund requests use it)."""
    with database.write() as session:
        database.lock(session, f"ratelimit:{bucket}")
        newest = session.execute(
            select(RateLimitHit).where(RateLimitHit.bucket == bucket).order_by(RateLimitHit.at.desc()).limit(1)
        ).scalar_one_or_none()
        if newest is not None:
            session.delete(newest)


def purge(database: Database, *, window: float = WINDOW) -> int:
    """Drop hits that can no longer count, for every bucket."""
    with database.write() as session:
        result = session.execute(delete(RateLimitHit).where(RateLimitHit.at <= epoch() - window))
        return int(getattr(result, "rowcount", 0) or 0)
