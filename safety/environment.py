"""Ask the target what it is: `GET /api/health` may say `"environment": "production"` (contract v1.1, section 3).

A host name cannot tell a tunnel or an alias to production (`127.0.0.1:18090` → prod)
from a local app; the deployment itself can. The guard reads the health route once,
before mutating tests run: a GET, without credentials, cookies or proxies, not following
redirects, with a short timeout. A production name makes the target production whatever
its host; an answer that cannot be read leaves the host rules in charge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

HEALTH_PATH = "api/health"
TIMEOUT_SECONDS = 5.0
PROD_ENVIRONMENTS_ENV = "E2E_PROD_ENVIRONMENTS"
ALWAYS_PROD = "production"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class EnvironmentNameError(ValueError):
    """An E2E_PROD_ENVIRONMENTS / prod_environments entry that is not an environment name."""


def prod_environment_names(entries: Iterable[tuple[str, str]]) -> frozenset[str]:
    """`production` and every listed name (entries: (name, where it came from)), lower-cased."""
    names = {ALWAYS_PROD}
    for name, source in entries:
        if not _NAME.fullmatch(name):
            raise EnvironmentNameError(
                f"{name!r} in {source} is not an environment name: list names such as production or "
                "prod-eu, separated by commas (letters, digits, '.', '_', '-')."
            )
        names.add(name.lower())
    return frozenset(names)


def health_url(base_url: str) -> str:
    # The suite joins its paths to the base URL the same way (contracts/api.py).
    return base_url.split("?", 1)[0].split("#", 1)[0].rstrip("/") + "/" + HEALTH_PATH


@dataclass(frozen=True, slots=True)
class EnvironmentReading:
    """What the target's health route said: its environment name, or why it could not be read."""

    url: str
    name: str | None = None
    error: str | None = None

    def is_prod(self, prod_names: frozenset[str]) -> bool:
        return self.name is not None and self.name.strip().lower() in prod_names

    def describe(self, prod_names: frozenset[str]) -> str:
        if self.error is not None:
            return f"GET {self.url} could not be read ({self.error}), so the host rules decide"
        if self.name is None:
            return f'GET {self.url} names no "environment", so the host rules decide'
        if self.is_prod(prod_names):
            return f'GET {self.url} says "environment": {self.name!r}, a production name'
        return f'GET {self.url} says "environment": {self.name!r}, not a production name'


def read_environment(
    base_url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = TIMEOUT_SECONDS
) -> EnvironmentReading:
    """GET the health route once (no credentials, no redirects, no proxies) and read its environment."""
    url = health_url(base_url)
    try:
        with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout) as client:
            response = client.get(url)
    except httpx.HTTPError as error:
        return EnvironmentReading(url, error=f"{type(error).__name__}: {error}".rstrip(": "))
    if response.status_code != 200:
        return EnvironmentReading(url, error=f"it answered {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return EnvironmentReading(url, error="its body is not JSON")
    if not isinstance(body, dict):
        return EnvironmentReading(url, error="its body is not a JSON object")
    name = body.get("environment")
    if name is None:
        return EnvironmentReading(url)
    if not isinstance(name, str):
        return EnvironmentReading(url, error=f'its "environment" is not a string: {name!r}')
    return EnvironmentReading(url, name=name)
