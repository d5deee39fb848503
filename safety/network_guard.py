"""Placeholder: the network guard is being written; `httpx_event_hooks()` is its httpx entry point."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def httpx_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """Event hooks that every httpx client of the suite must carry."""
    return {"request": [], "response": []}
