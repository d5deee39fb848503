"""Shared by the project's own tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testkit import waits

try:
    from playwright._impl import _assertions as playwright_assertions
except ImportError:  # pragma: no cover - playwright is a dependency; this keeps the fixture honest
    playwright_assertions = None

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _one_soft_assertion_scope_per_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let an in-process pytester run open its own pytest-playwright soft-assertion scope.

    pytest-playwright wraps every test call in a process-global scope that refuses
    to nest, so the inner run would fail before its first test. The outer scope is
    set aside for the length of the inner run and handed back afterwards.
    """
    if playwright_assertions is None:
        return
    original = pytest.Pytester.inline_run

    def inline_run(self: pytest.Pytester, *args: Any, **kwargs: Any) -> Any:
        saved = playwright_assertions._soft_errors
        playwright_assertions._soft_errors = None
        try:
            return original(self, *args, **kwargs)
        finally:
            playwright_assertions._soft_errors = saved

    monkeypatch.setattr(pytest.Pytester, "inline_run", inline_run)


@pytest.fixture
def said() -> Iterator[list[str]]:
    """The wait lines testkit.waits says during the test, kept instead of written out.

    A test that fakes a wait (a Retry-After, a budget, a clock) would otherwise print a wait
    that never happens.
    """
    lines: list[str] = []
    waits.set_writer(lines.append)
    yield lines
    waits.set_writer(None)
