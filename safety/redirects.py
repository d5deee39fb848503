"""Follow the target's redirect chain once, so a safe host that forwards to production counts as production."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ada_url
import httpx

from safety.hosts import HostPolicy, Verdict

MAX_HOPS = 10
TOTAL_SECONDS = 10.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True, slots=True)
class RedirectProbe:
    """What a GET of the base URL went through: every hop's URL and verdict, or why it failed."""

    hops: tuple[tuple[str, Verdict], ...] = field(default=())
    error: str | None = None

    @property
    def worst(self) -> tuple[str, Verdict] | None:
        """The first production hop, if any; else None."""
        for url, verdict in self.hops:
            if verdict.is_prod:
                return url, verdict
        return None


def probe_redirects(
    url: str,
    policy: HostPolicy,
    *,
    transport: httpx.BaseTransport | None = None,
    max_hops: int = MAX_HOPS,
    total_seconds: float = TOTAL_SECONDS,
) -> RedirectProbe:
    """GET `url` hop by hop (never letting httpx follow on its own) and classify every hop.

    Bounded in hops and in wall time; an unreachable target is reported, never
    assumed safe. Only GETs are sent, so probing production is harmless.
    """
    hops: list[tuple[str, Verdict]] = [(url, policy.classify_url(url))]
    deadline = time.monotonic() + total_seconds
    with httpx.Client(transport=transport, follow_redirects=False, trust_env=False) as client:
        current = url
        for _ in range(max_hops):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return RedirectProbe(tuple(hops), f"following redirects from {url} took over {total_seconds:g} s.")
            try:
                response = client.get(current, timeout=remaining)
            except httpx.HTTPError as error:
                return RedirectProbe(
                    tuple(hops),
                    f"GET {current} failed: {type(error).__name__}: {error}".rstrip(": "),
                )
            location = response.headers.get("location")
            if response.status_code not in _REDIRECTS or location is None:
                return RedirectProbe(tuple(hops))
            try:
                current = ada_url.join_url(current, location)
            except ValueError:
                current = location  # the classifier fails closed on what it cannot read
            hops.append((current, policy.classify_url(current)))
            if hops[-1][1].is_prod:
                # Production reached: stop here rather than keep requesting it.
                return RedirectProbe(tuple(hops))
        return RedirectProbe(tuple(hops), f"{url} redirected more than {max_hops} times.")
