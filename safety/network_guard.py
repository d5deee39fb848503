"""Block state-changing requests to production hosts before they leave the process.

The `mutating` marker is the first line of defence; this is the second, for the test
that forgot its marker. It sits on every path the suite sends requests through:
httpx clients (event hooks, and the transports underneath any client), the
standard library's `http.client` (requests, urllib3, urllib, schemathesis) and,
through `safety.browser_guard`, Playwright.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sys
import sysconfig
import traceback
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._sync.http11 import HTTP11Connection

from safety.hosts import HostPolicy, TargetClass, Verdict, origin_port
from safety.override import OVERRIDE_ENV
from safety.patching import PatchTable
from safety.probes import Probe

# HTTP methods are case-sensitive (RFC 9110 9.1): `get` is not GET, and a server may
# well treat it as a write. Only these exact spellings pass.
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
        self._probes: tuple[Probe, ...] = ()
        self.violations: list[str] = []
        # Blocks recorded while no test runs: before, between or after the tests (fixture-less
        # session hooks, threads, collection), and blocks after the session finished.
        self.outside: list[str] = []
        self.late: list[str] = []
        self._in_test = False
        self._tests_started = False
        self._after_tests = False
        self._closed = False
        self._exit_mode = False
        # (host, port) origins that are production though their host is not (safety.environment).
        self._prod_origins: dict[tuple[str, int], str] = {}
        # In a child process of a test (safety.child_guard): where blocks are reported to the parent.
        self.report_path: str | None = None
        # Non-Python programs the running test started: out of the guard's reach.
        self.programs: list[str] = []

    def export(self) -> dict[str, Any]:
        """What a child process needs to guard as this test does (safety.child_guard)."""
        return {
            "safe": sorted(self.policy.safe.items()),
            "prod": sorted(self.policy.prod.items()),
            "origins": [[h, p, why] for (h, p), why in self._prod_origins.items()],
            "writable": sorted(self._writable),
        }

    def load(self, config: dict[str, Any]) -> None:
        """Guard as the parent's test does: its production origins and what it may write to."""
        for host, port, why in config["origins"]:
            self._prod_origins[(str(host), int(port))] = str(why)
        self.begin_test()
        self.permit(str(h) for h in config["writable"])

    def record_from_child(self, message: str) -> None:
        """A block a child process reported: it counts as this process's own."""
        self._record(f"{message} [in a child process]", report=False)

    def add_prod_origins(self, origins: Iterable[tuple[str, int]], why: str) -> None:
        for origin in origins:
            self._prod_origins[origin] = why

    def begin_test(self) -> None:
        self._writable = frozenset()
        self._probes = ()
        self.violations = []
        self.programs = []
        self._in_test = True
        self._tests_started = True

    def allow_probes(self, probes: Iterable[Probe]) -> None:
        """Let the running test send these credential-less requests to production (safety.probes)."""
        self._probes = tuple(probes)

    def note_program(self, program: str) -> None:
        if self._in_test and program not in self.programs:
            self.programs.append(program)

    def has_probe_for(self, method: str) -> bool:
        return any(probe.method == method for probe in self._probes)

    def permit(self, prod_hosts: Iterable[str]) -> None:
        """Let the running test write to these production hosts (the override is in force)."""
        self._writable = frozenset(prod_hosts)

    def end_test(self) -> None:
        self._writable = frozenset()
        self._probes = ()
        self._in_test = False

    def finish_tests(self) -> None:
        """The session is finishing: no test runs any more."""
        self._in_test = False
        self._after_tests = True

    def close(self) -> None:
        """The summary is made: a block from here on is late (pytest_unconfigure fails the run for it)."""
        self.finish_tests()
        self._closed = True

    def arm_until_exit(self) -> None:
        """Stay armed after pytest is done: a block from here on ends the process with status 1."""
        self.close()
        self._exit_mode = True

    def _record(self, message: str, report: bool = True) -> None:
        if report and self.report_path is not None:
            _report(self.report_path, message)
        if self._in_test:
            self.violations.append(message)
            return
        if self._after_tests:
            phase = "after the test session"
        elif self._tests_started:
            phase = "between tests"
        else:
            phase = "before the first test (collection or a session-start hook)"
        entry = f"{message} [{phase}{_where()}]"
        if self._exit_mode:
            _exit_failed(entry)
        elif self._closed:
            self.late.append(entry)
        else:
            self.outside.append(entry)

    def check(
        self, method: str, url: str, via: str, host: str | None = None, header_names: Iterable[str] | None = None
    ) -> None:
        """Raise BlockedRequestError if `method url` would write to production without permission.

        `host` is the host the client has already parsed and will connect to; without
        it the URL is classified under every parser's reading. `header_names`: the names
        of the headers being sent, where the client shows them (a probe needs them).
        """
        if method in SAFE_METHODS:
            return
        self.enforce(method, url, via, self.verdict_for(url, host), header_names)

    def verdict_for(self, url: str, host: str | None = None) -> Verdict:
        """The class of what `url` (or the already parsed `host`) reaches, the target's own word included."""
        verdict = self.policy.classify_url(url) if host is None else self.policy.classify_host(host)
        if not verdict.is_prod and self._prod_origins:
            port = origin_port(url)
            said = next(
                (w for a in self.policy.addresses_of(verdict.host) if (w := self._prod_origins.get((a, port)))),
                None,
            )
            if said is not None:
                verdict = Verdict(verdict.host, TargetClass.PROD, said, "environment")
        return verdict

    def enforce(
        self, method: str, url: str, via: str, verdict: Verdict, header_names: Iterable[str] | None = None
    ) -> None:
        """Block `method url`, whose destination is `verdict`, unless it is a read, permitted or a declared probe."""
        if method in SAFE_METHODS or not verdict.is_prod or verdict.host in self._writable:
            return
        if header_names is not None and self._probes:
            names = list(header_names)
            if any(probe.allows(method, url, names) for probe in self._probes):
                return
        message = (
            f"network guard blocked {method} {redact(url)} (via {via}): {verdict.reason} "
            f"Only GET, HEAD and OPTIONS may reach a production host from a test that is not "
            f"allowed to mutate it. If this test changes state, mark it "
            f"@pytest.mark.mutating: it is then skipped on production, or runs there only "
            f"with {OVERRIDE_ENV}=1."
        )
        self._record(message)
        raise BlockedRequestError(message)


_NOT_THE_CALLER = tuple(
    path.rstrip(os.sep) + os.sep
    for path in {
        os.path.dirname(os.path.abspath(__file__)),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
)


def _where() -> str:
    """The innermost frame outside the guard, the standard library and installed packages: who sent it."""
    for frame in reversed(traceback.extract_stack()):
        if frame.filename.startswith("<") or frame.filename.startswith(_NOT_THE_CALLER):
            continue
        return f", from {frame.filename}:{frame.lineno} in {frame.name}"
    return ""


def _report(path: str, message: str) -> None:
    # One O_APPEND write per line: lines from concurrent children do not interleave.
    line = (" ".join(message.split()) + "\n").encode("utf-8", "replace")
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)


# Clean-ups that must run even when a late block ends the process without exit handlers.
at_forced_exit: list[Callable[[], object]] = []
# Where a parent process (an xdist controller, a test that started this pytest) reads the
# blocks of its children: a block at exit is reported there, so the parent's run fails too.
exit_report_paths: list[str] = []


def _exit_failed(entry: str) -> None:
    # pytest has returned its exit status already (an exit handler, a finalizer, a thread still
    # running at exit): nothing later can fail the run, so the process ends here, failed.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    message = (
        f"\ne2e network guard: {entry}\n"
        "e2e network guard: a state-changing request to production was attempted after pytest "
        "finished; the process exits with status 1.\n"
    )
    os.write(2, message.encode("utf-8", "replace"))
    for path in exit_report_paths:
        _report(path, entry)
    for cleanup in at_forced_exit:
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(1)


# A stack, because a pytester run inside a test installs a guard of its own and must
# hand the outer one back when it ends.
_guards: list[NetworkGuard] = []


def active_guard() -> NetworkGuard | None:
    return _guards[-1] if _guards else None


def check(method: str, url: str, via: str, host: str | None = None, header_names: Iterable[str] | None = None) -> None:
    """Check a request against the innermost installed guard (a no-op when the plugin is not loaded)."""
    if _guards:
        _guards[-1].check(method, url, via, host, header_names)


def check_wire(
    method: str,
    scheme: str,
    host: str,
    port: int | None,
    target: str,
    via: str,
    header_names: Iterable[str] | None = None,
) -> None:
    """Check a request as it goes on the wire: over a connection to `host`, with request-target `target`.

    The connection host is what the bytes reach, whatever the URL or a Host header
    says. An absolute-form target (`POST http://other/x`, what a forward proxy is
    sent) is checked as well: the connection host may forward it, or serve it itself.
    """
    if not _guards:
        return
    origin = f"{scheme}://{_bracket(host)}" + (f":{port}" if port is not None else "")
    if "://" in target:
        check(method, target, via)
        check(method, origin + "/", f"{via}, request-target {redact(target)}", host)
    else:
        check(method, origin + target, via, host, header_names)


def _httpx_host(request: httpx.Request) -> str:
    # raw_host is the ASCII (IDNA) name httpcore connects to; `.host` would be its Unicode form.
    return request.url.raw_host.decode("ascii", "replace")


def _httpx_hook(request: httpx.Request) -> None:
    check(request.method, str(request.url), "httpx", _httpx_host(request), request.headers.keys())


async def _httpx_async_hook(request: httpx.Request) -> None:
    check(request.method, str(request.url), "httpx", _httpx_host(request), request.headers.keys())


def _httpcore_check(request: httpcore.Request) -> None:
    method = request.method.decode("latin-1")
    url = request.url
    target = url.target.decode("latin-1")
    if method == "CONNECT" and not target.startswith("/"):
        return  # a proxy tunnel being opened; the requests inside it are checked on their own connection
    names = [name.decode("latin-1") for name, _ in request.headers]
    host = url.host.decode("ascii", "replace")
    check_wire(method, url.scheme.decode("ascii"), host, url.port, target, "httpcore", names)


def httpx_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """Event hooks for an httpx.Client; httpx runs them on every redirect hop."""
    return {"request": [_httpx_hook]}


def httpx_async_event_hooks() -> dict[str, list[Callable[..., Any]]]:
    """Event hooks for an httpx.AsyncClient."""
    return {"request": [_httpx_async_hook]}


def _original(owner: object, attribute: str) -> Any:
    return PATCHES.original(owner, attribute)


def _handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
    check(request.method, str(request.url), "httpx transport", _httpx_host(request), request.headers.keys())
    response: httpx.Response = _original(httpx.HTTPTransport, "handle_request")(self, request)
    return response


async def _handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    check(request.method, str(request.url), "httpx transport", _httpx_host(request), request.headers.keys())
    response: httpx.Response = await _original(httpx.AsyncHTTPTransport, "handle_async_request")(self, request)
    return response


def _connection_request(self: HTTP11Connection, request: httpcore.Request) -> httpcore.Response:
    _httpcore_check(request)
    response: httpcore.Response = _original(HTTP11Connection, "handle_request")(self, request)
    return response


async def _connection_async_request(self: AsyncHTTP11Connection, request: httpcore.Request) -> httpcore.Response:
    _httpcore_check(request)
    response: httpcore.Response = await _original(AsyncHTTP11Connection, "handle_async_request")(self, request)
    return response


def _putrequest(self: http.client.HTTPConnection, method: str, url: str, *args: Any, **kwargs: Any) -> None:
    _check_http_client(self, method, url)
    _original(http.client.HTTPConnection, "putrequest")(self, method, url, *args, **kwargs)


# The transports beneath every client, including ones a test builds itself.
PATCHES = PatchTable(
    lambda: [
        (httpx.HTTPTransport, "handle_request", _handle_request),
        (httpx.AsyncHTTPTransport, "handle_async_request", _handle_async_request),
        (http.client.HTTPConnection, "putrequest", _putrequest),
        (HTTP11Connection, "handle_request", _connection_request),
        (AsyncHTTP11Connection, "handle_async_request", _connection_async_request),
    ]
)


# Other guards' patches (safety.wire_guard, safety.browser_guard) defer to the active guard:
# they are undone with this module's own once no guard is left.
_followers: list[PatchTable] = []


def follow(table: PatchTable) -> None:
    """Undo `table` together with the transports' patches, when the last guard is uninstalled."""
    if table not in _followers:
        _followers.append(table)


def install(guard: NetworkGuard) -> None:
    """Activate `guard`; the transports are wrapped when the first guard comes."""
    _guards.append(guard)
    PATCHES.install()


def activate(guard: NetworkGuard) -> None:
    """Make `guard` the innermost again: a pytest run inside an earlier test that ended without
    unconfiguring (its configuration failed) must not leave its guard in charge."""
    if guard in _guards:
        del _guards[_guards.index(guard) + 1 :]


def release(guard: NetworkGuard) -> bool:
    """The end of a pytest run: an inner (pytester) guard is removed; the process's own stays
    armed, and every patch in place, until exit (True)."""
    if _guards == [guard]:
        guard.arm_until_exit()
        return True
    uninstall(guard)
    return False


def uninstall(guard: NetworkGuard) -> None:
    """Deactivate `guard`; the transports are unwrapped once no guard is left."""
    if guard in _guards:
        _guards.remove(guard)
    if not _guards:
        PATCHES.uninstall()
        for table in _followers:
            table.uninstall()


def _check_http_client(conn: http.client.HTTPConnection, method: str, url: str) -> None:
    """What an http.client request really reaches: the tunnel host through a proxy, else conn.host."""
    tunnel_host: str | None = getattr(conn, "_tunnel_host", None)
    if tunnel_host:
        port: int | None = getattr(conn, "_tunnel_port", None)
        check_wire(method, "https", tunnel_host, port, url, "http.client")
        return
    scheme = "https" if isinstance(conn, http.client.HTTPSConnection) else "http"
    check_wire(method, scheme, conn.host, conn.port, url, "http.client")


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
