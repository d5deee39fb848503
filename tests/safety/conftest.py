from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.safety.stand_in import StandIn

HARNESS_ENV = (
    "E2E_BASE_URL",
    "PLAYWRIGHT_BASE_URL",
    "PYTEST_BASE_URL",
    "E2E_SAFE_HOSTS",
    "E2E_PROD_HOSTS",
    "E2E_ALLOW_PROD_SCORE",
    # The runs under test must not report their blocks to this outer run as its children's:
    # they provoke blocks on purpose (safety.child_guard).
    "E2E_SAFETY_CHILD_GUARD",
)


@pytest.fixture(autouse=True)
def _clean_harness_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The outer run's own configuration must not leak into the runs under test.
    for name in HARNESS_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def prod() -> Iterator[StandIn]:
    """Production, played by 127.0.0.2 (listed as prod by the tests that use it)."""
    server = StandIn("127.0.0.2").start()
    yield server
    server.stop()


@pytest.fixture
def staging() -> Iterator[StandIn]:
    """Staging, played by 127.0.0.3 (listed as safe by the tests that use it)."""
    server = StandIn("127.0.0.3").start()
    yield server
    server.stop()


@pytest.fixture
def local() -> Iterator[StandIn]:
    server = StandIn("127.0.0.1").start()
    yield server
    server.stop()
