"""The `E2E_ALLOW_PROD_SCORE` override: strict parsing, because `0` must never mean yes."""

from __future__ import annotations

OVERRIDE_ENV = "E2E_ALLOW_PROD_SCORE"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


class OverrideValueError(ValueError):
    """The override variable holds a value that is neither clearly yes nor clearly no."""


def parse_override(value: str | None) -> bool:
    """Return True only for 1/true/yes/on (any case); unset, empty, 0/false/no/off are False.

    Anything else is an error rather than a guess: Rails and database_cleaner read
    `0` as "set, so allowed", and people have mutated production that way.
    """
    if value is None:
        return False
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise OverrideValueError(
        f"{OVERRIDE_ENV}={value!r} is not a valid value: use 1, true, yes or on to allow "
        "mutating tests against a production target, or 0, false, no, off (or leave it "
        "unset) to keep them skipped."
    )
