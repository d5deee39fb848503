"""The section 9 broken builds (refapp/faults/ui.py) each change a page, and every page still renders.

Their proofs are browser specs (tests/specs/test_broken_ui_builds.py); a build whose patch no
longer finds its text answers 500, which would fail those specs for the wrong reason.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from refapp.faults import ui

from .conftest import AppFactory, World

_NONCE = re.compile(r"nonce[-=]\"?[A-Za-z0-9_-]+")
_PAGES = ("/login", "/next-actions", "/leads/some-lead")


def _pages(client: TestClient) -> dict[str, tuple[int, str]]:
    """Each page without and with a session: (status, text without its per-response nonce)."""
    token = World(client).token
    seen: dict[str, tuple[int, str]] = {}
    for path in _PAGES:
        for signed_in in (False, True):
            client.cookies.clear()
            if signed_in:
                client.cookies.set("session", token)
            response = client.get(path, follow_redirects=False)
            seen[f"{path} signed_in={signed_in}"] = (response.status_code, _NONCE.sub("nonce", response.text))
    return seen


@pytest.mark.parametrize("name", sorted(ui.FAULTS))
def test_each_ui_fault_changes_a_page_that_still_renders(make_client: AppFactory, name: str) -> None:
    healthy = _pages(make_client())
    broken = _pages(make_client(broken=name))
    failing = {page: status for page, (status, _) in broken.items() if status >= 500}
    assert not failing, f"REFAPP_BROKEN={name}: pages answered {failing}"
    assert broken != healthy, f"REFAPP_BROKEN={name} changes no page"
