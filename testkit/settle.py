"""Wait until something stops changing: for "it happened once" checks that a late event could fool.

A page that resends late, a browser's beacon still in a server's thread, an Execution record
written a moment after the page looks done: counting at once would miss them. `until_unchanged`
reads again until the value has held for `quiet` seconds, bounded by `timeout`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def until_unchanged(
    read: Callable[[], T],
    pause: Callable[[float], None],
    *,
    quiet: float,
    timeout: float,
    step: float = 0.05,
) -> T:
    """`read()` once it has returned the same value for `quiet` seconds (or `timeout` is over).

    `pause(seconds)` waits between reads: `time.sleep`, or a Playwright page's
    `wait_for_timeout`, which also lets the page's routed requests through meanwhile.
    """
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        pause(step)
        value = read()
        if value != last:
            last, since = value, time.monotonic()
    return last
