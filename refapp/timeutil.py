"""Server-clock helpers: every time the app stores or prints is UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current server time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def epoch() -> float:
    """The current server time in seconds since the epoch (wall clock, shared by processes)."""
    return time.time()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` suffix and microseconds, or None."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
