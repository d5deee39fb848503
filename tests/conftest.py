"""Shared by the project's own tests."""

from __future__ import annotations

from typing import Any

import pytest

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
