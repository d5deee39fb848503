"""The network guard's hold on Playwright: pages, contexts, APIRequestContexts, WebSockets, service workers.

Every browser context, however it was made (the pytest-playwright fixtures, a
test's own `browser.new_context()`, a persistent context), gets a catch-all route
and WebSocket route at creation, through Playwright's client instrumentation.
The decision is taken where a routed request would really leave for the
network (`Route._inner_continue`, which both `continue_()` and the last
`fallback()` reach), so a test's own `page.route(...)` that continues a request,
or rewrites its URL or method, cannot step around it. Requests are classified
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
        # `net::ERR_BLOCKED_BY_CLIENT` in the page; the recorded violation fails the test.
        await self._race_with_target_close(self._channel.abort(errorCode="blockedbyclient", timeout=NO_TIMEOUT))
        return
    await _originals["continue"](self, is_fallback)


async def _inner_fetch(self: APIRequestContext, *args: Any, **kwargs: Any) -> Any:
    url = kwargs.get("url")
    request = kwargs.get("request")
    target = url if url is not None else getattr(request, "url", "")
    method = kwargs.get("method") or (request.method if request is not None else None) or "GET"
    network_guard.check(method, resolve(target, getattr(self, _BASE_URL_ATTR, None)), "Playwright APIRequestContext")
    return await _originals["fetch"](self, *args, **kwargs)


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
