"""refapp/ui.py served alone (no database): who is sent to /login, and what each page holds."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI

from refapp import ui
from refapp.config import Settings


class Pages:
    """GETs against refapp.ui's router alone, in process (no server, no database)."""

    def __init__(self) -> None:
        self.app = FastAPI()
        self.app.state.settings = Settings()  # the healthy build: no broken-build switch
        self.app.include_router(ui.router)

    def get(self, path: str) -> httpx.Response:
        async def fetch() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ui.test") as http:
                return await http.get(path)

        return asyncio.run(fetch())


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> Pages:
    monkeypatch.setattr(ui, "session_user_id", lambda request: "user-1")
    return Pages()


@pytest.fixture
def anonymous(monkeypatch: pytest.MonkeyPatch) -> Pages:
    monkeypatch.setattr(ui, "session_user_id", lambda request: None)
    return Pages()


@pytest.mark.parametrize("path", ["/next-actions", "/leads/lead-1"])
def test_private_pages_send_a_visitor_without_a_session_to_login(anonymous: Pages, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/login"


def test_the_login_page_needs_no_session_and_labels_its_fields(anonymous: Pages) -> None:
    page = anonymous.get("/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<label for="email">Email</label>' in page.text
    assert '<input id="email"' in page.text
    assert '<label for="password">Password</label>' in page.text
    assert '<input id="password"' in page.text
    assert '<button type="submit">Sign in</button>' in page.text
    assert 'role="alert"' in page.text
    assert "/api/auth/login" in page.text


def test_the_queue_page_has_the_list_the_regions_and_every_action_label(
    signed_in: Pages,
) -> None:
    page = signed_in.get("/next-actions")
    assert page.status_code == 200
    assert 'aria-label="Next actions"' in page.text
    assert 'role="status"' in page.text and 'role="alert"' in page.text
    for key, label in ui.ACTION_LABELS:
        assert f'["{key}", "{label}"]' in page.text
    assert "Idempotency-Key" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_the_lead_page_escapes_the_id_it_echoes(signed_in: Pages) -> None:
    page = signed_in.get('/leads/x"><img src=x onerror=alert(1)>')
    assert page.status_code == 200
    assert "<img" not in page.text
    assert 'data-lead-id="x&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in page.text


def test_each_page_allows_only_its_own_inline_script(signed_in: Pages) -> None:
    first, second = signed_in.get("/next-actions"), signed_in.get("/next-actions")
    policy = first.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce is not None
    assert f'<script nonce="{nonce.group(1)}">' in first.text
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert second.headers["content-security-policy"] != policy, "a nonce is used once"


def test_home_goes_to_the_queue(anonymous: Pages) -> None:
    response = anonymous.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/next-actions"


def test_the_favicon_is_an_empty_answer_not_a_404(anonymous: Pages) -> None:
    assert anonymous.get("/favicon.ico").status_code == 204
