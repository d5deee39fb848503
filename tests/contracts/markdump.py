"""A pytest plugin (`-p tests.contracts.markdump`) that prints every collected test with its marks, in run order.

A test that waits long enough for a worker of its own (testkit.collection.is_waiting) also
shows the pseudo-mark WAITING.
"""

from __future__ import annotations

import pytest

from testkit.collection import is_waiting

PREFIX = "MARKS\t"
WAITING = "(waiting)"


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        marks = sorted({m.name for m in item.iter_markers()} | ({WAITING} if is_waiting(item) else set()))
        print(f"{PREFIX}{item.nodeid}\t{','.join(marks)}")
