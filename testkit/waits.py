"""Waits the suite chooses to make are said out loud: who waits, how long, and why.

A test that waits out a 429's Retry-After, or for the shared account's rate-limit budget
(testkit/budget.py), or for queued items another test holds (testkit/items.py), prints one line
when the wait is longer than NOTICE_SECONDS:

    e2e wait: contracts/test_x.py::test_y waits 42 s: <why>

The line goes to the process's real stderr past pytest's capture, so it shows at once under
pytest-xdist too (a worker's stderr is the controller's).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

#: Shorter waits pass in silence.
NOTICE_SECONDS = 3.0

#: Where lines go; `install` points it past pytest's capture. Tests replace it.
_write: Callable[[str], None] | None = None


def current_test() -> str:
    """The node id of the test running in this process (pytest sets PYTEST_CURRENT_TEST), or "the run"."""
    value = os.environ.get("PYTEST_CURRENT_TEST", "")
    return value.rsplit(" (", 1)[0] if value else "the run"


def line(who: str, seconds: float, why: str) -> str:
    return f"e2e wait: {who} waits {seconds:.0f} s: {why}"


def notice(seconds: float, why: str, who: str | None = None) -> bool:
    """Say that `who` (the current test) is about to wait `seconds` and why; True if it was said."""
    if seconds <= NOTICE_SECONDS:
        return False
    text = line(who or current_test(), seconds, why)
    (_write or _stderr_writer(sys.__stderr__))(text)
    return True


def notice_ongoing(waited: float, limit: float, why: str, who: str | None = None) -> None:
    """Say that `who` has waited `waited` seconds (of at most `limit`) for something with no known end."""
    text = f"e2e wait: {who or current_test()} has waited {waited:.0f} s (gives up at {limit:.0f} s): {why}"
    (_write or _stderr_writer(sys.__stderr__))(text)


def notice_gave_up(waited: float, why: str, who: str | None = None) -> None:
    """Say that `who` stopped waiting for something after `waited` seconds and went on without it."""
    text = f"e2e wait: {who or current_test()} went on after waiting {waited:.0f} s for {why}"
    (_write or _stderr_writer(sys.__stderr__))(text)


def _stderr_writer(stream: TextIO | None) -> Callable[[str], None]:
    def write(text: str) -> None:
        if stream is not None:
            stream.write(f"\n{text}\n")
            stream.flush()

    return write


def install(capture_manager: object | None) -> None:
    """Write past pytest's capture (`capturemanager`), or to stderr when there is none."""
    global _write
    disabled = getattr(capture_manager, "global_and_fixture_disabled", None)
    if disabled is None:
        _write = _stderr_writer(sys.__stderr__)
        return

    def write(text: str) -> None:
        with disabled():
            sys.stderr.write(f"\n{text}\n")
            sys.stderr.flush()

    _write = write


def uninstall() -> None:
    global _write
    _write = None


def set_writer(writer: Callable[[str], None] | None) -> None:
    """Send lines to `writer` (tests), or back to the default with None."""
    global _write
    _write = writer
