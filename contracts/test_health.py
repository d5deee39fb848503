"""Section 3: GET /api/health (no auth)."""

from __future__ import annotations

import httpx
import pytest

from contracts import api as c

pytestmark = pytest.mark.smoke


def test_health_answers_ok_without_auth(api: httpx.Client) -> None:
    response = api.get(c.HEALTH_PATH)
    body = c.expect_status(response, 200, "GET /api/health needs no auth (section 3)")
    assert isinstance(body, dict) and body.get("ok") is True, (
        f'GET /api/health must answer {{"ok": true, ...}} (section 3); got {c.describe(response)}'
    )


def test_health_carries_a_date_header(api: httpx.Client) -> None:
    response = api.get(c.HEALTH_PATH)
    c.server_now(response)  # asserts the header exists and parses
