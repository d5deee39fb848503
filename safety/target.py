"""Which deployment the suite tests: the first configured source, else the embedded app."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from safety.urls import InvalidTargetURL, parse_base_url

EMBEDDED = "embedded reference app"


@dataclass(frozen=True, slots=True)
class TargetChoice:
    """The resolved base URL (None: start the embedded app) and where it came from."""

    url: str | None
    source: str

    @property
    def embedded(self) -> bool:
        return self.url is None


def resolve_target(candidates: Sequence[tuple[str | None, str]]) -> TargetChoice:
    """Pick the first configured value of `candidates` (value, source), in precedence order.

    An empty value counts as unset (CI templates often export empty variables); a
    non-empty malformed one is an error naming the value, never a silent fallback.
    """
    for value, source in candidates:
        if value is None or value == "":
            continue
        try:
            return TargetChoice(parse_base_url(value), source)
        except InvalidTargetURL as error:
            raise InvalidTargetURL(f"{source}: {error}") from None
    return TargetChoice(None, EMBEDDED)
