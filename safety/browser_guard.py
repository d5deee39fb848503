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
routing, so its fetch is checked directly. Service workers and shared workers
are blocked, since their requests (and WebSockets) are not routed through the page.

Requests a document sends while it goes away (beacons and keepalive fetches on
`pagehide`/`visibilitychange`, at navigation, `page.close()`, `context.close()`)
are not routed by Chromium at all. So from the moment a document starts to hide or
unload, `navigator.sendBeacon`, `fetch` and `XMLHttpRequest` writes are handed to
Python through a binding instead, checked there, and re-sent from Python (through the
guarded APIRequestContext) only when allowed. A body that cannot be read synchronously
(a Blob, FormData, a stream) cannot be re-sent: such a request is dropped.
The guard's route cannot be removed: `unroute`/`unroute_all` keep it.
"""

from __future__ import annotations

import base64
import contextlib
import re
from contextvars import ContextVar
from typing import Any

import ada_url
from playwright._impl._errors import Error
from playwright._impl.browser_context import BrowserContext
from playwright._impl.client_instrumentation import ClientInstrumentation
from playwright._impl.fetch import APIRequestContext
from playwright._impl.network import Route, RouteHandler, WebSocketRoute
from playwright._impl.timeout_settings import NO_TIMEOUT

from safety import network_guard
from safety.network_guard import BlockedRequestError
from safety.patching import PatchTable

WEBSOCKET = "WEBSOCKET"  # not a safe method: a socket can carry writes
_ALL = re.compile(r".*")
_BASE_URL_ATTR = "_e2e_safety_base_url"
_pending_base_url: ContextVar[str | None] = ContextVar("pending_base_url", default=None)
UNLOAD_BINDING = "__e2eGuardUnloadSend"
# The `service_workers="block"` context option alone did not stop a registration in
# Debian's Chromium, so registration is also refused in every frame before page scripts run.
# Shared workers are refused outright: neither their requests nor their WebSockets are routed.
_NO_SERVICE_WORKERS = """
if (typeof ServiceWorkerContainer !== "undefined") {
  Object.defineProperty(ServiceWorkerContainer.prototype, "register", {
    value: () => Promise.reject(
      new DOMException("service workers are blocked by the e2e network guard", "SecurityError")),
  });
}
if (typeof SharedWorker !== "undefined") {
  Object.defineProperty(globalThis, "SharedWorker", {
    value: function SharedWorker() {
      throw new DOMException("shared workers are blocked by the e2e network guard", "SecurityError");
    },
  });
}
"""
# While a document hides or unloads, its writes go to Python (UNLOAD_BINDING) instead of the
# network: Chromium does not route them, so the guard would never see them otherwise.
_UNLOAD_WRITES = """
(() => {
  const send = globalThis.__BINDING__;
  if (typeof send !== "function" || typeof window === "undefined") return;
  let leaving = false;
  const on = (target, type, listener) => target.addEventListener(type, listener, { capture: true });
  on(window, "pagehide", () => { leaving = true; });
  on(window, "pageshow", () => { leaving = false; });
  on(document, "visibilitychange", () => { leaving = document.visibilityState === "hidden"; });
  const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
  const base64 = (bytes) => {
    let text = "";
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  };
  // [content type, base64 body]; null when the body cannot be read synchronously.
  const body = (data) => {
    if (data === undefined || data === null) return [null, ""];
    if (typeof data === "string") return ["text/plain;charset=UTF-8", base64(new TextEncoder().encode(data))];
    if (data instanceof URLSearchParams)
      return ["application/x-www-form-urlencoded;charset=UTF-8", base64(new TextEncoder().encode(String(data)))];
    if (data instanceof ArrayBuffer) return [null, base64(new Uint8Array(data))];
    if (ArrayBuffer.isView(data)) return [null, base64(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))];
    return null;
  };
  const hand = (url, method, headers, data) => {
    const read = body(data);
    const type = read ? read[0] : null;
    if (type && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) headers["content-type"] = type;
    try { send(String(new URL(url, location.href)), method, headers, read ? read[1] : null); } catch (e) {}
  };
  const beacon = Navigator.prototype.sendBeacon;
  if (beacon) {
    Object.defineProperty(Navigator.prototype, "sendBeacon", {
      value: function sendBeacon(url, data) {
        if (!leaving) return beacon.call(this, url, data);
        hand(url, "POST", {}, data);
        return true;
      },
    });
  }
  const fetch = globalThis.fetch;
  globalThis.fetch = function (input, init) {
    if (!leaving) return fetch.apply(this, arguments);
    const request = new Request(input, init);
    if (SAFE.has(request.method)) return fetch.apply(this, arguments);
    const headers = {};
    request.headers.forEach((value, name) => { headers[name] = value; });
    const data = init && "body" in init ? init.body : (input instanceof Request && input.body ? input.body : null);
    hand(request.url, request.method, headers, data);
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  const open = XMLHttpRequest.prototype.open;
  const xhrSend = XMLHttpRequest.prototype.send;
  const setHeader = XMLHttpRequest.prototype.setRequestHeader;
  const meta = new WeakMap();
  XMLHttpRequest.prototype.open = function (method, url) {
    // XMLHttpRequest upper-cases the standard methods only, as here.
    const upper = String(method).toUpperCase();
    const standard = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(upper);
    meta.set(this, { method: standard ? upper : String(method), url: String(url), headers: {} });
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.setRequestHeader = function (name, value) {
    const m = meta.get(this);
    if (m) m.headers[name] = value;
    return setHeader.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function (data) {
    const m = meta.get(this);
    if (!leaving || !m || SAFE.has(m.method)) return xhrSend.apply(this, arguments);
    hand(m.url, m.method, m.headers, data);
  };
})();
""".replace("__BINDING__", UNLOAD_BINDING)


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
    await _original(ClientInstrumentation, "run_before_create_browser_context")(self, options)
    options["service_workers"] = "block"


async def _unload_send(source: dict[str, Any], url: str, method: str, headers: Any, body: str | None) -> None:
    """A write a hiding or unloading document sent: checked, then re-sent from here if allowed."""
    method = str(method)
    if blocked(method, str(url), "Playwright page, sent while the page was hiding or unloading"):
        return
    if body is None:
        return  # a Blob, FormData or stream body cannot be read without waiting: dropped
    context: BrowserContext = source["context"]
    names = {str(k): str(v) for k, v in dict(headers or {}).items()}
    # Fire and forget, as the page did; the guarded APIRequestContext checks every hop again.
    with contextlib.suppress(Exception):
        response = await context.request.fetch(
            str(url), None, method, names, base64.b64decode(body), None, None, None, False, None, 0, None
        )
        await response.dispose()


async def _after_context(self: ClientInstrumentation, context: BrowserContext) -> None:
    await _original(ClientInstrumentation, "run_after_create_browser_context")(self, context)
    setattr(context.request, _BASE_URL_ATTR, context._options.get("baseURL"))
    await context.expose_binding(UNLOAD_BINDING, _unload_send)
    await context.add_init_script(_NO_SERVICE_WORKERS + _UNLOAD_WRITES, None)
    await context.route(_ALL, _fall_through, None)
    await context.route_web_socket(_ALL, _websocket)


async def _unroute_internal(
    self: BrowserContext, removed: list[RouteHandler], remaining: list[RouteHandler], behavior: Any
) -> None:
    # `unroute_all()` and `unroute(...)` end here: the guard's own route is always kept, last.
    kept = [handler for handler in removed if handler.handler is _fall_through]
    removed = [handler for handler in removed if handler not in kept]
    await _original(BrowserContext, "_unroute_internal")(self, removed, [*remaining, *kept], behavior)


async def _before_request_context(self: ClientInstrumentation, options: dict[str, Any]) -> None:
    await _original(ClientInstrumentation, "run_before_create_request_context")(self, options)
    _pending_base_url.set(options.get("base_url"))


async def _after_request_context(self: ClientInstrumentation, context: APIRequestContext) -> None:
    await _original(ClientInstrumentation, "run_after_create_request_context")(self, context)
    setattr(context, _BASE_URL_ATTR, _pending_base_url.get())


async def _inner_continue(self: Route, is_fallback: bool) -> None:
    overrides = self.request._fallback_overrides_for_continue()
    method = overrides.method or self.request.method
    url = overrides.url or self.request.url
    if blocked(method, url, "Playwright page"):
        await _abort(self)
        return
    if method in network_guard.SAFE_METHODS or network_guard.active_guard() is None:
        await _original(Route, "_inner_continue")(self, is_fallback)
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
    fetch = _original(APIRequestContext, "_inner_fetch")
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
        return await fetch(self, **kwargs)
    # Playwright follows redirects inside its driver, out of the guard's sight, and keeps
    # a write's method on 307/308 (and on 301/302 for all but POST). Follow them here,
    # so that every hop of a write is checked before it is sent.
    response = await fetch(self, **{**kwargs, "max_redirects": 0})
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
            return await fetch(self, **{**kwargs, "max_redirects": remaining - 1})
        response = await fetch(self, **{**kwargs, "max_redirects": 0})
    if response.status in _REDIRECTS and response.headers.get("location"):
        raise Error("Max redirect count exceeded")
    return response


def _connect_to_server(self: WebSocketRoute) -> Any:
    # A test's own route_web_socket handler that connects through must pass the guard as well.
    network_guard.check(WEBSOCKET, self.url, "Playwright WebSocket")
    return _original(WebSocketRoute, "connect_to_server")(self)


# Playwright's client: context creation (the guard's routes and init scripts), routing,
# APIRequestContext fetches and WebSocket routes.
PATCHES = PatchTable(
    lambda: [
        (ClientInstrumentation, "run_before_create_browser_context", _before_context),
        (ClientInstrumentation, "run_after_create_browser_context", _after_context),
        (ClientInstrumentation, "run_before_create_request_context", _before_request_context),
        (ClientInstrumentation, "run_after_create_request_context", _after_request_context),
        (APIRequestContext, "_inner_fetch", _inner_fetch),
        (WebSocketRoute, "connect_to_server", _connect_to_server),
        (BrowserContext, "_unroute_internal", _unroute_internal),
        (Route, "_inner_continue", _inner_continue),
    ]
)


def _original(owner: object, attribute: str) -> Any:
    return PATCHES.original(owner, attribute)


def install() -> None:
    """Patch Playwright's client once per process; the checks defer to the active network guard."""
    PATCHES.install()
    network_guard.follow(PATCHES)


def uninstall() -> None:
    """Put Playwright's client back as it was (network_guard.uninstall does so once no guard is left).

    Contexts made while installed keep their catch-all route, which then only falls through.
    """
    PATCHES.uninstall()
