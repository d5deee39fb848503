"""A pytest plugin (`-p tests.contracts.markdump`) that prints every collected test with its marks, in run order."""

from __future__ import annotations

import pytest

PREFIX = "MARKS\t"


def pytest_collection_finish(session: pytest.Session) -> None:
    for item in session.items:
        marks = sorted({m.name for m in item.iter_markers()})
        print(f"{PREFIX}{item.nodeid}\t{','.join(marks)}")
