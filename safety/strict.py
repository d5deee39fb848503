"""The opt-in strict mode for CI gates: a run that skipped tests for lack of setup fails.

`--e2e-strict` / `--no-e2e-strict`, else `E2E_STRICT`, else ini `e2e_strict` (command line >
environment > ini, as pytest-base-url reads its option). Parsed strictly, as the override is:
a value that is neither clearly yes nor clearly no is a usage error, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping

STRICT_ENV = "E2E_STRICT"
STRICT_INI = "e2e_strict"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


class StrictValueError(ValueError):
    """E2E_STRICT holds a value that is neither clearly yes nor clearly no."""


def strict_mode(cli: bool | None, env: Mapping[str, str], ini: bool) -> bool:
    """Whether skips for lack of setup fail the run (cli: the flag, None when not given)."""
    if cli is not None:
        return cli
    value = env.get(STRICT_ENV)
    if value is None or not value.strip():
        return ini  # an empty variable counts as unset (CI templates export empty ones)
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise StrictValueError(
        f"{STRICT_ENV}={value!r} is not a valid value: use 1, true, yes or on to fail a run that skipped "
        "tests for lack of setup, or 0, false, no or off (or leave it unset)."
    )
