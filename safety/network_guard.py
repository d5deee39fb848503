"""Block state-changing requests to production hosts before they leave the process.

The `mutating` marker is the first line of defence; this is the second, for the test
that forgot its marker. It sits on every path the suite sends requests through:
httpx clients (event hooks, and the transports underneath any client), the
standard library's `http.client` (requests, urllib3, urllib, schemathesis) and,
through `safety.browser_guard`, Playwright.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from safety.hosts import HostPolicy
from safety.override import OVERRIDE_ENV

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BlockedRequestError(AssertionError):
    """A request that would change production was stopped; it reads as a test failure, never a skip."""


def redact(url: str) -> str:
    """The URL without userinfo or query values, so a blocked-request message leaks no secret."""
    head, _, query = url.partition("?")
    head = head.split("#", 1)[0]
    scheme, sep, rest = head.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        authority = authority.rpartition("@")[2]
        head = f"{scheme}://{authority}{slash}{path}"
    return head + ("?…" if query else "")


class NetworkGuard:
    """The process-wide guard: a host policy plus what the running test is allowed to write to."""

    def __init__(self, policy: HostPolicy) -> None:
        self.policy = policy
        self._writable: frozenset[str] = frozenset()
        self.violations: list[str] = []

    def begin_test(self) -> None:
        self._writable = frozenset()
        self.violations = []

    def permit(self, prod_hosts: Iterable[str]) -> None:
        """Let the running test write to these production hosts (the override is in force)."""
        self._writable = frozenset(prod_hosts)

    def end_test(self) -> None:
        self._writable = frozenset()

    def check(self, method: str, url: str, via: str, host: str | None = None) -> None:
        """Raise BlockedRequestError if `method url` would write to production without permission.

        `host` is the host the client has already parsed and will connect to; without
        it the URL is classified under every parser's reading.
        """
        method = method.upper()
        if method in SAFE_METHODS:
            return
        verdict = self.policy.classify_url(url) if host is None else self.policy.classify_host(host)
        if not verdict.is_prod or verdict.host in self._writable:
            return
        message = (
            f"network guard blocked {method} {redact(url)} (via {via}): {verdict.reason} "
            f"Only GET, HEAD and OPTIONS may reach a production host from a test that is not "
            f"allowed to mutate it. If this test changes state, mark it "
            f"@pytest.mark.mutating: it is then skipped on production, or runs there only "
            f"with {OVERRIDE_ENV}=1."
        )
        self.violations.append(message)
        raise BlockedRequestError(message)


# A stack, because a pytester run inside a test installs a guard of its own and must
# hand the outer one back when it ends.
_guards: list[NetworkGuard] = []


def active_guard() -> NetworkGuard | None:
    return _guards[-1] if _guards else None


def check(method: str, url: str, via: str, host: str | None = None) -> None:
    """Check a request against the innermost installed guard (a no-op when the plugin is not loaded)."""
    if _guards:
        _guards[-1].check(method, url, via, host)


def _httpx_hook(request: httpx.Request) -> None:
    check(request.method, str(request.url), "httpx", request.url.host)


async def _httpx_async_hook(request: httpx.Request) -> None:
    check(request.method, str(request.url), "httpx", request.url.host)


def httpx_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """Event hooks for an httpx.Client; httpx runs them on every redirect hop."""
    return {"request": [_httpx_hook]}


def httpx_async_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """Event hooks for an httpx.AsyncClient."""
    return {"request": [_httpx_async_hook]}


_originals: dict[str, Any] = {}


def install(guard: NetworkGuard) -> None:
    """Activate `guard` and wrap the transports beneath every client, including ones a test builds itself."""
    _guards.append(guard)
    if _originals:
        return
    _originals["httpx"] = httpx.HTTPTransport.handle_request
    _originals["httpx_async"] = httpx.AsyncHTTPTransport.handle_async_request
    _originals["http.client"] = http.client.HTTPConnection.putrequest

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        check(request.method, str(request.url), "httpx transport", request.url.host)
        response: httpx.Response = _originals["httpx"](self, request)
        return response

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        check(request.method, str(request.url), "httpx transport", request.url.host)
        response: httpx.Response = await _originals["httpx_async"](self, request)
        return response

    def putrequest(self: http.client.HTTPConnection, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        target, host = _http_client_target(self, url)
        check(method, target, "http.client", host)
        _originals["http.client"](self, method, url, *args, **kwargs)

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]
    http.client.HTTPConnection.putrequest = putrequest  # type: ignore[method-assign]


def uninstall(guard: NetworkGuard) -> None:
    """Deactivate `guard`; the transports are unwrapped once no guard is left."""
    if guard in _guards:
        _guards.remove(guard)
    if _guards or not _originals:
        return
    httpx.HTTPTransport.handle_request = _originals.pop("httpx")  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = _originals.pop("httpx_async")  # type: ignore[method-assign]
    http.client.HTTPConnection.putrequest = _originals.pop("http.client")  # type: ignore[method-assign]


def _http_client_target(conn: http.client.HTTPConnection, url: str) -> tuple[str, str | None]:
    """What an http.client request really reaches: the tunnel host, a proxy's absolute URL, or conn.host."""
    tunnel_host: str | None = getattr(conn, "_tunnel_host", None)
    if tunnel_host:
        return f"https://{_bracket(tunnel_host)}{url}", tunnel_host
    if "://" in url:
        return url, None  # through a plain HTTP proxy the request line holds the absolute target
    scheme = "https" if isinstance(conn, http.client.HTTPSConnection) else "http"
    return f"{scheme}://{_bracket(conn.host)}:{conn.port}{url}", conn.host


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
