"""Unauthenticated probes: the one kind of write a read-only test may send to production.

A post-deploy smoke check has to show that a state-changing route turns away a caller
without credentials: `POST /api/next-actions/{id}/execute` answering 401 runs nothing and
spends no budget (contract section 6, step 1). A test opts in visibly, with

    @pytest.mark.unauthenticated_probe("POST", "/api/next-actions/*/execute")

and the network guard then lets through exactly that method, on paths matching the
pattern (`*` is one path segment), and only when the request carries no credentials: no
`Authorization`, `Proxy-Authorization` or `Cookie` header. Only clients that show the guard
their headers (httpx, and httpcore beneath it) can send a probe; everything else stays
blocked, and so does a probe request that carries any credential.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

MARKER = "unauthenticated_probe"
CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SEGMENT = "[^/]+"


class ProbeMarkerError(ValueError):
    """An `unauthenticated_probe` marker that does not say exactly what it allows."""


@dataclass(frozen=True)
class Probe:
    method: str
    pattern: str

    @property
    def _regex(self) -> re.Pattern[str]:
        parts = re.split(r"(\*)", self.pattern)
        return re.compile("".join(_SEGMENT if part == "*" else re.escape(part) for part in parts))

    def allows(self, method: str, url: str, header_names: Iterable[str]) -> bool:
        if method != self.method:
            return False
        if any(name.lower() in CREDENTIAL_HEADERS for name in header_names):
            return False
        try:
            path = urlsplit(url).path
        except ValueError:
            return False
        return self._regex.fullmatch(path) is not None

    def __str__(self) -> str:
        return f"{self.method} {self.pattern}"


def probe_from_marker(args: tuple[object, ...], where: str) -> Probe:
    """The probe a marker declares; a marker that is not (METHOD, "/path/pattern") is refused."""
    if len(args) != 2 or not all(isinstance(a, str) for a in args):
        raise ProbeMarkerError(
            f"{where}: @pytest.mark.{MARKER} takes a method and a path pattern, e.g. "
            f'@pytest.mark.{MARKER}("POST", "/api/next-actions/*/execute"); got {args!r}.'
        )
    method, pattern = str(args[0]), str(args[1])
    if not re.fullmatch(r"[A-Z]+", method):
        raise ProbeMarkerError(f"{where}: the {MARKER} method {method!r} must be an upper-case HTTP method.")
    if not pattern.startswith("/") or "**" in pattern or "?" in pattern or "#" in pattern:
        raise ProbeMarkerError(
            f"{where}: the {MARKER} path {pattern!r} must be an absolute path without query or "
            "fragment, with `*` for one path segment."
        )
    return Probe(method, pattern)
