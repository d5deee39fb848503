"""Settings read from the environment (the broken builds themselves are in refapp/broken.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from refapp import readings
from refapp.broken import BROKEN_BUILDS
from refapp.db import DEFAULT_DATABASE_URL

#: The E2E_EMAIL account's seed (refapp.fixtures.seed_account): queued items by default, and at most.
SEED_QUEUED = 3
MAX_SEED_QUEUED = 50

_TRUE = {"1", "true", "yes", "on"}


class ConfigError(Exception):
    """The environment asks for something the app refuses to do."""


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    fixtures_enabled: bool = False
    cron_secret: str | None = None
    access_log: str | None = None
    e2e_email: str | None = None
    e2e_password: str | None = None
    #: Queued next actions the E2E_EMAIL account's lead is topped up to at start-up.
    seed_next_actions: int = SEED_QUEUED
    broken: str | None = None
    # Reported by GET /api/health (contract v1.1 section 3); "production" makes the suite treat it as prod.
    environment: str = "development"
    readings: str = readings.DEFAULT

    def other(self, point: str) -> bool:
        """Whether this app takes the other reading at `point` (refapp/readings.py)."""
        if point not in readings.READING_POINTS:
            raise ValueError(f"unknown reading point {point!r}")
        return self.readings == readings.OTHER

    def is_broken(self, name: str) -> bool:
        if name not in BROKEN_BUILDS:
            raise ValueError(f"unknown broken-build name {name!r}")
        return self.broken == name

    @staticmethod
    def from_env_database_url(env: Mapping[str, str] | None = None) -> str:
        env = os.environ if env is None else env
        return env.get("DATABASE_URL") or DEFAULT_DATABASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings; raises ConfigError for a refused broken build."""
        env = os.environ if env is None else env
        broken = (env.get("REFAPP_BROKEN") or "").strip() or None
        if broken is not None:
            if broken not in BROKEN_BUILDS:
                valid = ", ".join(sorted(BROKEN_BUILDS))
                raise ConfigError(f"unknown REFAPP_BROKEN value {broken!r}; valid names: {valid}")
            if not _flag(env.get("REFAPP_ALLOW_BROKEN")):
                raise ConfigError(
                    f"refusing to start a deliberately broken build (REFAPP_BROKEN={broken}: "
                    f"{BROKEN_BUILDS[broken]}); set REFAPP_ALLOW_BROKEN=1 to run it anyway"
                )
        reading = (env.get("REFAPP_READINGS") or "").strip() or readings.DEFAULT
        if reading not in readings.READINGS:
            valid = ", ".join(readings.READINGS)
            raise ConfigError(f"unknown REFAPP_READINGS value {reading!r}; valid readings: {valid}")
        seed = (env.get("REFAPP_SEED_NEXT_ACTIONS") or "").strip()
        if seed and not (seed.isdigit() and 1 <= int(seed) <= MAX_SEED_QUEUED):
            raise ConfigError(f"REFAPP_SEED_NEXT_ACTIONS={seed!r}: must be an integer 1..{MAX_SEED_QUEUED}")
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            fixtures_enabled=_flag(env.get("REFAPP_E2E_FIXTURES")),
            cron_secret=env.get("CRON_SECRET") or None,
            access_log=env.get("REFAPP_ACCESS_LOG") or None,
            e2e_email=env.get("E2E_EMAIL") or None,
            e2e_password=env.get("E2E_PASSWORD") or None,
            seed_next_actions=int(seed) if seed else SEED_QUEUED,
            broken=broken,
            readings=reading,
            environment=(env.get("REFAPP_ENVIRONMENT") or "").strip() or "development",
        )
