"""Shared by the tests of testkit/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from testkit import waits


@pytest.fixture
def said() -> Iterator[list[str]]:
    """The wait lines testkit.waits says during the test, instead of writing them out."""
    lines: list[str] = []
    waits.set_writer(lines.append)
    yield lines
    waits.set_writer(None)
