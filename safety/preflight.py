"""One clear error for an unreachable target, before any test runs.

When the run targets a deployment (a base URL, not the embedded app) and collects tests of
contracts/ or specs/, the controller sends one `GET /api/health` first. If no HTTP answer comes
back at all, the run stops with a usage error (exit status 4) that names the URL, what failed
(DNS, connection refused, TLS, timeout) and what to check: one paragraph instead of every
test failing on its own. Any HTTP answer, whatever its status, lets the run go on: the health
contract test judges the answer (section 3).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from safety.environment import health_url

TIMEOUT_SECONDS = 10.0
#: Folders (under the rootdir) whose tests talk to the target.
SUITE_FOLDERS = ("contracts", "specs")


@dataclass(frozen=True, slots=True)
class PreflightFailure:
    url: str
    kind: str
    detail: str
    check: str

    def message(self, target: str, source: str) -> str:
        return (
            f"the target {target} (from {source}) cannot be reached, so no test ran: "
            f"GET {self.url} failed: {self.kind}: {self.detail}. Check: {self.check}"
        )


def collects_suite(args: Iterable[str], invocation_dir: Path, rootdir: Path) -> bool:
    """Whether the run's arguments (pytest's `config.args`) reach tests in contracts/ or specs/."""
    folders = [(rootdir / name).resolve() for name in SUITE_FOLDERS if (rootdir / name).is_dir()]
    for arg in args:
        text = arg.split("::", 1)[0]
        if not text:
            continue
        path = Path(text)
        path = (path if path.is_absolute() else invocation_dir / path).resolve()
        if any(path == d or d in path.parents or path in d.parents for d in folders):
            return True
    return False


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and its causes (httpx wraps httpcore, which wraps the socket's own error)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "temporary failure in name resolution",
    "no address associated",
    "getaddrinfo failed",
)


def classify(error: httpx.HTTPError, url: str) -> PreflightFailure:
    """What failed, in a reader's words, and what to check."""
    chain = list(_chain(error))
    text = " ".join(str(e) for e in chain).lower()
    detail = f"{type(error).__name__}: {error}".rstrip(": ")
    host = httpx.URL(url).host
    if isinstance(error, httpx.TimeoutException):
        return PreflightFailure(
            url,
            "timeout",
            f"no answer within {TIMEOUT_SECONDS:g} s ({detail})",
            f"that the target is up and that {host} and its port are right; a firewall, VPN or proxy "
            "may drop the connection.",
        )
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "certificate" in text:
        return PreflightFailure(
            url,
            "TLS",
            f"the TLS handshake failed ({detail})",
            f"the certificate of {host} (expired, self-signed, issued for another name), and that the "
            "port speaks https (use http:// for a plain-HTTP port).",
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or any(word in text for word in _DNS_WORDS):
        return PreflightFailure(
            url,
            "DNS",
            f"the host name {host} does not resolve ({detail})",
            "the spelling of the host in --base-url / E2E_BASE_URL, and your DNS or VPN.",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
        return PreflightFailure(
            url,
            "connection refused",
            f"nothing accepts connections there ({detail})",
            f"that the app is running and listens on {host} at the port in the URL.",
        )
    if isinstance(error, httpx.RemoteProtocolError):
        return PreflightFailure(
            url,
            "not HTTP",
            f"the target closed the connection or did not answer in HTTP ({detail})",
            "the scheme (http:// or https://) and the port of the URL.",
        )
    return PreflightFailure(
        url,
        "connection failed",
        detail,
        f"that {host} is reachable from this machine (network, VPN, proxy) and the URL is right.",
    )


def preflight(
    base_url: str, *, transport: httpx.BaseTransport | None = None, timeout: float = TIMEOUT_SECONDS
) -> PreflightFailure | None:
    """GET the health route once (no credentials, no redirects, no proxies); None when anything answered."""
    url = health_url(base_url)
    try:
        with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=timeout) as client:
            client.get(url)
    except httpx.HTTPError as error:
        return classify(error, url)
    return None
