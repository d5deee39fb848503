"""The network guard's hold on Playwright: pages, contexts, APIRequestContexts, WebSockets, service workers.

Every browser context, however it was made (the pytest-playwright fixtures, a
test's own `browser.new_context()`, a persistent context), gets a catch-all route
and WebSocket route at creation, through Playwright's client instrumentation.
The decision is taken where a routed request would really leave for the
network (`Route._inner_continue`, which both `continue_()` and the last
`fallback()` reach), so a test's own `page.route(...)` that continues a request,
or rewrites its URL or method, cannot step around it. Chromium follows redirects
without routing them, so a write (any method but GET/HEAD/OPTIONS) is sent from
Python through the guarded `APIRequestContext` and its response fulfilled to the
page: every hop of a 307/308 chain is checked. Requests are classified
by the URL the browser itself reports. `APIRequestContext` requests
(`page.request`, `context.request`, `playwright.request.new_context()`) bypass
routing, so its fetch is checked directly. Service workers are blocked, since
their requests are not routed through the page.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

import ada_url
from playwright._impl._errors import Error
from playwright._impl.browser_context import BrowserContext
from playwright._impl.client_instrumentation import ClientInstrumentation
from playwright._impl.fetch import APIRequestContext
from playwright._impl.network import Route, WebSocketRoute
from playwright._impl.timeout_settings import NO_TIMEOUT

from safety import network_guard
from safety.network_guard import BlockedRequestError

WEBSOCKET = "WEBSOCKET"  # not a safe method: a socket can carry writes
_ALL = re.compile(r".*")
_BASE_URL_ATTR = "_e2e_safety_base_url"
_pending_base_url: ContextVar[str | None] = ContextVar("pending_base_url", default=None)
_originals: dict[str, Any] = {}
# The `service_workers="block"` context option alone did not stop a registration in
# Debian's Chromium, so registration is also refused in every frame before page scripts run.
_NO_SERVICE_WORKERS = """
if (typeof ServiceWorkerContainer !== "undefined") {
  Object.defineProperty(ServiceWorkerContainer.prototype, "register", {
    value: () => Promise.reject(
      new DOMException("service workers are blocked by the e2e network guard", "SecurityError")),
  });
}
"""


def resolve(url: str, base_url: str | None) -> str:
    """The absolute URL Playwright will request: `url` joined to the context's base URL (WHATWG)."""
    if base_url:
        try:
            return str(ada_url.join_url(base_url, url))
        except ValueError:
            return url
    return url


def blocked(method: str, url: str, via: str) -> bool:
    """True (and the violation recorded on the guard) when `method url` may not leave."""
    try:
        network_guard.check(method, url, via)
    except BlockedRequestError:
        return True
    return False


async def _fall_through(route: Route, request: Any) -> None:
    await route.fallback(None, None, None, None)


async def _websocket(ws: WebSocketRoute) -> None:
    if blocked(WEBSOCKET, ws.url, "Playwright WebSocket"):
        await ws.close(1008, "blocked by the e2e network guard")
    else:
        ws.connect_to_server()


async def _before_context(self: ClientInstrumentation, options: dict[str, Any]) -> None:
    await _originals["before_context"](self, options)
    options["service_workers"] = "block"


async def _after_context(self: ClientInstrumentation, context: BrowserContext) -> None:
    await _originals["after_context"](self, context)
    setattr(context.request, _BASE_URL_ATTR, context._options.get("baseURL"))
    await context.add_init_script(_NO_SERVICE_WORKERS, None)
    await context.route(_ALL, _fall_through, None)
    await context.route_web_socket(_ALL, _websocket)


async def _before_request_context(self: ClientInstrumentation, options: dict[str, Any]) -> None:
    await _originals["before_request"](self, options)
    _pending_base_url.set(options.get("base_url"))


async def _after_request_context(self: ClientInstrumentation, context: APIRequestContext) -> None:
    await _originals["after_request"](self, context)
    setattr(context, _BASE_URL_ATTR, _pending_base_url.get())


async def _inner_continue(self: Route, is_fallback: bool) -> None:
    overrides = self.request._fallback_overrides_for_continue()
    method = overrides.method or self.request.method
    url = overrides.url or self.request.url
    if blocked(method, url, "Playwright page"):
        await _abort(self)
        return
    if method in network_guard.SAFE_METHODS or network_guard.active_guard() is None:
        await _originals["continue"](self, is_fallback)
        return
    # Chromium follows redirects itself and Playwright never routes them, so a write that
    # a local or safe host answers with 307/308 would be re-sent wherever it points,
    # unchecked. A write is therefore sent from here, and its response handed to the page.
    try:
        response = await _send_write(self, method)
    except BlockedRequestError:
        await _abort(self)
        return
    await self._inner_fulfill(
        response=response, status=None, headers=None, content_type=None, body=None, json=None, path=None
    )


async def _abort(route: Route) -> None:
    # `net::ERR_BLOCKED_BY_CLIENT` in the page; the recorded violation fails the test.
    await route._race_with_target_close(route._channel.abort(errorCode="blockedbyclient", timeout=NO_TIMEOUT))


async def _send_write(route: Route, method: str) -> Any:
    """Send a routed write through the (guarded) APIRequestContext; only its method-keeping redirects are followed here.

    A redirect that turns the write into a GET (303, or 301/302 after a POST) goes back to
    the page, so that the browser follows and navigates as it would have.
    """
    response = await route.fetch(None, None, None, None, 0, None, None)
    location = response.headers.get("location")
    keeps_method = response.status in (307, 308) or (response.status in (301, 302) and method != "POST")
    if not (keeps_method and location):
        return response
    try:
        next_url = str(ada_url.join_url(response.url, location))
    except ValueError:
        next_url = location
    network_guard.check(method, next_url, f"Playwright page, redirect from {response.url}")
    await response.dispose()
    # The rest of the chain: the APIRequestContext guard checks every further hop.
    return await route.fetch(next_url, None, None, None, None, None, None)


_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_MAX_REDIRECTS = 20  # Playwright's
_BODY_HEADERS = ("content-encoding", "content-language", "content-length", "content-location", "content-type")


async def _inner_fetch(self: APIRequestContext, *args: Any, **kwargs: Any) -> Any:
    if args:  # every caller in Playwright passes keywords; anything else is refused, not guessed at
        raise TypeError("the e2e network guard expects APIRequestContext._inner_fetch(**kwargs)")
    url = kwargs.get("url")
    request = kwargs.get("request")
    target = url if url is not None else getattr(request, "url", "")
    # Playwright upper-cases the method itself before sending it.
    method = str(kwargs.get("method") or (request.method if request is not None else None) or "GET").upper()
    via = "Playwright APIRequestContext"
    network_guard.check(method, resolve(target, getattr(self, _BASE_URL_ATTR, None)), via)
    limit = kwargs.get("max_redirects")
    limit = _DEFAULT_MAX_REDIRECTS if limit is None else limit
    if method in network_guard.SAFE_METHODS or limit == 0:
        return await _originals["fetch"](self, **kwargs)
    # Playwright follows redirects inside its driver, out of the guard's sight, and keeps
    # a write's method on 307/308 (and on 301/302 for all but POST). Follow them here,
    # so that every hop of a write is checked before it is sent.
    response = await _originals["fetch"](self, **{**kwargs, "max_redirects": 0})
    for remaining in range(limit, 0, -1):
        location = response.headers.get("location")
        if response.status not in _REDIRECTS or not location:
            return response
        try:
            next_url = str(ada_url.join_url(response.url, location))
        except ValueError:
            next_url = location  # the classifier fails closed on what it cannot read
        status = response.status
        to_get = (status in (301, 302) and method == "POST") or (status == 303 and method not in ("GET", "HEAD"))
        method = "GET" if to_get else method
        network_guard.check(method, next_url, f"{via}, redirect from {response.url}")
        await response.dispose()
        headers = {k: v for k, v in dict(kwargs.get("headers") or getattr(request, "headers", None) or {}).items()}
        headers = {k: v for k, v in headers.items() if k.lower() != "cookie"}
        if to_get:
            headers = {k: v for k, v in headers.items() if k.lower() not in _BODY_HEADERS}
        kwargs = {
            **kwargs,
            "url": next_url,
            "request": None if to_get else request,
            "method": method,
            "headers": headers,
            "params": None,
            "data": None if to_get else kwargs.get("data"),
            "form": None if to_get else kwargs.get("form"),
            "multipart": None if to_get else kwargs.get("multipart"),
        }
        if method in network_guard.SAFE_METHODS:
            # A read from here on: Playwright may follow the rest itself.
            return await _originals["fetch"](self, **{**kwargs, "max_redirects": remaining - 1})
        response = await _originals["fetch"](self, **{**kwargs, "max_redirects": 0})
    if response.status in _REDIRECTS and response.headers.get("location"):
        raise Error("Max redirect count exceeded")
    return response


def _connect_to_server(self: WebSocketRoute) -> Any:
    # A test's own route_web_socket handler that connects through must pass the guard as well.
    network_guard.check(WEBSOCKET, self.url, "Playwright WebSocket")
    return _originals["connect"](self)


def install() -> None:
    """Patch Playwright's client once per process; the checks defer to the active network guard."""
    if _originals:
        return
    _originals.update(
        before_context=ClientInstrumentation.run_before_create_browser_context,
        after_context=ClientInstrumentation.run_after_create_browser_context,
        before_request=ClientInstrumentation.run_before_create_request_context,
        after_request=ClientInstrumentation.run_after_create_request_context,
        fetch=APIRequestContext._inner_fetch,
        connect=WebSocketRoute.connect_to_server,
    )
    _originals["continue"] = Route._inner_continue
    ClientInstrumentation.run_before_create_browser_context = _before_context  # type: ignore[method-assign]
    ClientInstrumentation.run_after_create_browser_context = _after_context  # type: ignore[method-assign]
    ClientInstrumentation.run_before_create_request_context = _before_request_context  # type: ignore[method-assign]
    ClientInstrumentation.run_after_create_request_context = _after_request_context  # type: ignore[method-assign]
    APIRequestContext._inner_fetch = _inner_fetch  # type: ignore[method-assign]
    WebSocketRoute.connect_to_server = _connect_to_server  # type: ignore[method-assign]
    Route._inner_continue = _inner_continue  # type: ignore[method-assign]
