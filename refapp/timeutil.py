"""Server-clock helpers: every time the app stores or prints is UTC."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from refapp import readings


def utcnow() -> datetime:
    """The current server time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def epoch() -> float:
    """The current server time in seconds since the epoch (wall clock, shared by processes)."""
    return time.time()


def iso(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a `Z` suffix and microseconds, or None (other readings: whole
    seconds, `+00:00`)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    timespec = "seconds" if readings.other("whole_second_times") else "microseconds"
    text = value.astimezone(UTC).isoformat(timespec=timespec)
    return text if readings.other("offset_times") else text.replace("+00:00", "Z")
