"""How contracts/test_cron.py reads a cron answer (section 8): skipped exactly when "locked" (v1.1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contracts.test_cron import _assert_cron_ok


def _answer(body: Any) -> httpx.Response:
    return httpx.Response(
        200,
        json=body,
        headers={"Date": "Tue, 01 Dec 2026 05:00:00 GMT"},
        request=httpx.Request("POST", "http://127.0.0.1:9/api/cron/background-jobs"),
    )


@pytest.mark.parametrize(
    ("body", "processed"),
    [
        ({"ok": True, "processed": 1}, True),
        ({"ok": True, "processed": 1, "skipped": None}, True),  # the false failure of issue 12
        ({"ok": True, "processed": 0, "skipped": False}, True),
        ({"ok": True, "skipped": "locked"}, False),
        ({"ok": True, "skipped": "locked", "processed": None}, False),
    ],
)
def test_a_run_was_skipped_exactly_when_skipped_is_locked(body: dict[str, Any], processed: bool) -> None:
    assert _assert_cron_ok(_answer(body)) is processed


@pytest.mark.parametrize(
    "body",
    [
        {"ok": True},
        {"ok": True, "skipped": None},
        {"ok": True, "skipped": "busy"},
        {"ok": True, "processed": -1},
        {"ok": True, "processed": True},
        {"ok": False, "processed": 1},
    ],
)
def test_neither_processed_nor_locked_fails(body: dict[str, Any]) -> None:
    with pytest.raises(AssertionError, match=r"section 8|ok true"):
        _assert_cron_ok(_answer(body))
