from __future__ import annotations

from collections.abc import Iterator

import pytest

from safety.variables import HARNESS_ENV
from tests.safety.stand_in import StandIn


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
