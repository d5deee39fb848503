"""The reference app names its environment on GET /api/health (contract v1.1, section 3)."""

from __future__ import annotations

import pytest

from refapp.config import Settings
from tests.refapp.conftest import AppFactory


def test_health_says_development_by_default(make_client: AppFactory) -> None:
    assert make_client().get("/api/health").json()["environment"] == "development"


def test_health_says_what_refapp_environment_sets(make_client: AppFactory) -> None:
    body = make_client(environment="production").get("/api/health").json()
    assert body["ok"] is True
    assert body["environment"] == "production"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "development"), ("", "development"), ("  ", "development"), ("production", "production"), (" qa ", "qa")],
)
def test_refapp_environment_is_read_from_the_environment(value: str | None, expected: str) -> None:
    env = {} if value is None else {"REFAPP_ENVIRONMENT": value}
    assert Settings.from_env(env).environment == expected
