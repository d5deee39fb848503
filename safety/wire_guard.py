"""The network guard at the wire: what any Python client writes on a connection to production.

The client-level guards (safety.network_guard, safety.browser_guard) know the clients
the suite uses. Under them, this one reads the bytes written on every TCP connection
to a production address, whatever wrote them: `socket.socket.send/sendall/sendmsg`
(http.client's raw `send()`, raw sockets, asyncio's selector transports and so asyncio
streams, aiohttp, anyio), `ssl.SSLSocket` (requests, urllib3 over TLS) and
`ssl.SSLObject.write` (asyncio and anyio TLS, so httpcore's async client). A request head
with a method other than GET/HEAD/OPTIONS, an `Upgrade`, or the HTTP/2 preface is stopped
before the write that completes it, in a test not allowed to mutate production
(safety.wire reads the stream). asyncio transports are checked in `write()` itself, so
the BlockedRequestError reaches the caller instead of closing the transport quietly.

Where a connection goes: its peer address, classified by the host rules; a peer address
that is not listed anywhere takes the class of the names that resolved to it in this
process (recorded from `socket.getaddrinfo`), so a safe name's address stays safe, and an
address reached by literal is production unless it is loopback. A TLS object without a
socket (`SSLObject`) is classified by its server name; without one it is not inspected.
"""

from __future__ import annotations

import asyncio.selector_events
import asyncio.sslproto
import socket
import ssl
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from safety import network_guard
from safety.hosts import Verdict, canonical_host
from safety.network_guard import BlockedRequestError, NetworkGuard
from safety.patching import PatchTable
from safety.wire import RequestHead, StreamState, advance

_names: dict[str, set[str]] = {}
_names_lock = threading.Lock()
_NAMES_LIMIT = 4096


@dataclass
class _Connection:
    peer: tuple[str, int] | None
    scheme: str
    state: StreamState = field(default_factory=StreamState)
    verdicts: dict[int, Verdict | None] = field(default_factory=dict)
    blocked: str | None = None


_connections: weakref.WeakKeyDictionary[Any, _Connection] = weakref.WeakKeyDictionary()


def names_for(address: str) -> tuple[str, ...]:
    """The names that resolved to `address` in this process."""
    with _names_lock:
        return tuple(sorted(_names.get(address, ())))


def _record_names(host: object, infos: list[Any]) -> None:
    if not isinstance(host, (str, bytes)):
        return
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else host
    canonical = canonical_host(name)
    if canonical is None or _is_address(canonical):
        return  # an address literal names nothing new
    with _names_lock:
        if len(_names) > _NAMES_LIMIT:
            _names.clear()
        for info in infos:
            address = canonical_host(str(info[4][0]))
            if address is not None:
                _names.setdefault(address, set()).add(canonical)


def _is_address(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _peer_verdict(guard: NetworkGuard, connection: _Connection) -> Verdict | None:
    """The production verdict on where this connection goes (cached per guard); None when it is not production."""
    key = id(guard)
    if key in connection.verdicts:
        return connection.verdicts[key]
    verdict: Verdict | None = None
    if connection.peer is not None:
        host, port = connection.peer
        url = f"{connection.scheme}://{_bracket(host)}:{port}/"
        own = guard.verdict_for(url, host)
        names = names_for(host)
        if own.is_prod and (own.rule != "unknown host" or not names):
            verdict = own
        else:
            for name in names:
                by_name = guard.verdict_for(f"{connection.scheme}://{_bracket(name)}:{port}/", name)
                if by_name.is_prod:
                    verdict = Verdict(
                        by_name.host, by_name.target_class, f"{host} is {name}: {by_name.reason}", by_name.rule
                    )
                    break
    connection.verdicts[key] = verdict
    return verdict


def _inspect(key: Any, make: Callable[[], _Connection], data: Any, via: str, commit: bool = True) -> None:
    """Stop `data` if, written on this connection, it completes a forbidden request head."""
    guard = network_guard.active_guard()
    if guard is None:
        return
    connection = _connections.get(key)
    if connection is None:
        connection = make()
        try:
            _connections[key] = connection
        except TypeError:
            return  # not weak-referenceable: cannot be followed
    verdict = _peer_verdict(guard, connection)
    if verdict is None:
        return
    if connection.blocked is not None:
        raise BlockedRequestError(connection.blocked)
    state, heads = advance(connection.state, _bytes(data))
    for head in heads:
        if head.early and guard.has_probe_for(head.method):
            continue  # a declared probe is judged on its complete head, with its header names
        try:
            _enforce(guard, connection, verdict, head, via)
        except BlockedRequestError as error:
            # Nothing more goes out on this connection: the body of the stopped request either.
            connection.blocked = f"{error} (the connection carries no more data after that)"
            raise
    if commit:
        connection.state = state


def _enforce(guard: NetworkGuard, connection: _Connection, verdict: Verdict, head: RequestHead, via: str) -> None:
    assert connection.peer is not None
    host, port = connection.peer
    target = head.target if head.target.startswith("/") else "/" + head.target.lstrip("*")
    url = f"{connection.scheme}://{_bracket(host)}:{port}{target}"
    guard.enforce(head.shown_method, url, f"{via}, on the wire", verdict, head.header_names)


def _bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    try:
        return bytes(memoryview(data))
    except TypeError:
        return b""


def _socket_connection(sock: socket.socket, scheme: str) -> Callable[[], _Connection]:
    def make() -> _Connection:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return _Connection(None, scheme)
        try:
            address = sock.getpeername()
        except OSError:
            return _Connection(None, scheme)
        host = canonical_host(str(address[0]))
        return _Connection((host, int(address[1])) if host else None, scheme)

    return make


def _sslobject_connection(obj: ssl.SSLObject) -> Callable[[], _Connection]:
    def make() -> _Connection:
        name = obj.server_hostname
        host = canonical_host(name) if name else None
        return _Connection((host, 443) if host else None, "https")

    return make


def _is_plain(sock: socket.socket) -> bool:
    return not isinstance(sock, ssl.SSLSocket)


def _original(owner: object, attribute: str) -> Any:
    return PATCHES.original(owner, attribute)


def _getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
    infos = _original(socket, "getaddrinfo")(host, port, *args, **kwargs)
    _record_names(host, infos)
    return infos


def _send(self: socket.socket, data: Any, *args: Any) -> int:
    if _is_plain(self):
        _inspect(self, _socket_connection(self, "http"), data, "socket.send")
    sent: int = _original(socket.socket, "send")(self, data, *args)
    return sent


def _sendall(self: socket.socket, data: Any, *args: Any) -> None:
    if _is_plain(self):
        _inspect(self, _socket_connection(self, "http"), data, "socket.sendall")
    _original(socket.socket, "sendall")(self, data, *args)


def _sendmsg(self: socket.socket, buffers: Any, *args: Any) -> int:
    buffers = [bytes(memoryview(b)) for b in buffers]
    if _is_plain(self):
        _inspect(self, _socket_connection(self, "http"), b"".join(buffers), "socket.sendmsg")
    sent: int = _original(socket.socket, "sendmsg")(self, buffers, *args)
    return sent


def _sendto(self: socket.socket, data: Any, *args: Any) -> int:
    if _is_plain(self) and self.type == socket.SOCK_STREAM:
        _inspect(self, _socket_connection(self, "http"), data, "socket.sendto")
    sent: int = _original(socket.socket, "sendto")(self, data, *args)
    return sent


def _ssl_send(self: ssl.SSLSocket, data: Any, flags: int = 0) -> int:
    _inspect(self, _socket_connection(self, "https"), data, "ssl.SSLSocket.send")
    # SSLSocket.sendall calls send: the connection state must advance once per byte.
    sent: int = _original(ssl.SSLSocket, "send")(self, data, flags)
    return sent


def _ssl_sendall(self: ssl.SSLSocket, data: Any, flags: int = 0) -> None:
    _inspect(self, _socket_connection(self, "https"), data, "ssl.SSLSocket.sendall", commit=False)
    _original(ssl.SSLSocket, "sendall")(self, data, flags)


def _ssl_write(self: ssl.SSLSocket, data: Any) -> int:
    _inspect(self, _socket_connection(self, "https"), data, "ssl.SSLSocket.write")
    written: int = _original(ssl.SSLSocket, "write")(self, data)
    return written


def _sslobject_write(self: ssl.SSLObject, data: Any) -> int:
    _inspect(self, _sslobject_connection(self), data, "ssl.SSLObject.write")
    written: int = _original(ssl.SSLObject, "write")(self, data)
    return written


# asyncio's transports are private classes: looked up by name, as the module has them.
_SELECTOR_TRANSPORT: Any = vars(asyncio.selector_events)["_SelectorSocketTransport"]
_SSL_TRANSPORT: Any = vars(asyncio.sslproto)["_SSLProtocolTransport"]


def _transport_write(self: Any, data: Any) -> None:
    # asyncio turns an error of sock.send into a quiet close: check here first, so that the
    # caller sees it; the socket's own check then reads the bytes as they go.
    sock = getattr(self, "_sock", None)
    if isinstance(sock, socket.socket) and _is_plain(sock):
        _inspect(sock, _socket_connection(sock, "http"), data, "asyncio transport", commit=False)
    _original(_SELECTOR_TRANSPORT, "write")(self, data)


def _ssl_transport_write(self: Any, data: Any) -> None:
    protocol = getattr(self, "_ssl_protocol", None)
    sslobj = getattr(protocol, "_sslobj", None)
    if isinstance(sslobj, ssl.SSLObject):
        _inspect(sslobj, _sslobject_connection(sslobj), data, "asyncio TLS transport", commit=False)
    _original(_SSL_TRANSPORT, "write")(self, data)


# The standard library's sockets, TLS and asyncio transports, and the name resolver.
PATCHES = PatchTable(
    lambda: [
        (socket, "getaddrinfo", _getaddrinfo),
        (socket.socket, "send", _send),
        (socket.socket, "sendall", _sendall),
        (socket.socket, "sendmsg", _sendmsg),
        (socket.socket, "sendto", _sendto),
        (ssl.SSLSocket, "send", _ssl_send),
        (ssl.SSLSocket, "sendall", _ssl_sendall),
        (ssl.SSLSocket, "write", _ssl_write),
        (ssl.SSLObject, "write", _sslobject_write),
        (_SELECTOR_TRANSPORT, "write", _transport_write),
        (_SSL_TRANSPORT, "write", _ssl_transport_write),
    ]
)


def install() -> None:
    """Patch the standard library's sockets, TLS and asyncio transports once per process;
    the checks defer to the active network guard."""
    PATCHES.install()
    network_guard.follow(PATCHES)


def uninstall() -> None:
    """Put the standard library back as it was (network_guard.uninstall does so once no guard is left)."""
    PATCHES.uninstall()


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host
