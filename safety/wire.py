"""Read the HTTP/1.x requests in what a client writes on one connection, before it is sent.

The wire guard (safety.wire_guard) feeds every write on a connection to a production
address through `advance`, a pure function of the connection's state and the bytes:
it returns the request heads those bytes complete. A head is only complete once its
blank line is written, and no HTTP/1.x server acts on a request before that, so the
write that completes a head is the one to stop. Bodies are skipped by Content-Length or
by chunked framing, so a pipelined second request on a kept-alive connection is read
too. Bytes that are not HTTP/1.x (TLS records, another protocol) make the connection
opaque; the HTTP/2 preface (`PRI * HTTP/2.0`) and any `Upgrade` are reported as heads,
so that they are refused to production like any other method that is not GET/HEAD/OPTIONS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

# A request head larger than this is not read further: what has been read is reported.
HEAD_LIMIT = 65536
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_REQUEST_LINE = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+)(?: +(HTTP/\d(?:\.\d)?))? *\r?$")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_SAFE = (b"GET", b"HEAD", b"OPTIONS")


@dataclass(frozen=True, slots=True)
class RequestHead:
    """A request about to be sent: its method (with `Upgrade` named), target and header names."""

    method: str
    target: str
    header_names: tuple[str, ...] | None
    upgrade: str | None = None
    # Reported as soon as the method is known, before the head is complete: some servers
    # (Python's http.server) act on a head cut short by the end of the connection.
    early: bool = False

    @property
    def shown_method(self) -> str:
        return f"{self.method} (Upgrade: {self.upgrade})" if self.upgrade else self.method


@dataclass(frozen=True, slots=True)
class StreamState:
    """Where a connection's byte stream is: at a request head, in a body, or no longer HTTP/1.x."""

    mode: str = "head"  # head | body | chunk-size | chunk-data | trailers | opaque
    head: bytes = b""
    remaining: int = 0
    announced: bool = False  # the head's method has been reported early


OPAQUE = StreamState("opaque")


def advance(state: StreamState, data: bytes) -> tuple[StreamState, list[RequestHead]]:
    """The state after `data` is written, and the request heads that `data` completes."""
    heads: list[RequestHead] = []
    pos = 0
    while pos < len(data) and state.mode != "opaque":
        if state.mode == "head":
            state, pos, head = _read_head(state, data, pos)
            if head is not None:
                heads.append(head)
        elif state.mode == "body":
            take = min(state.remaining, len(data) - pos)
            pos += take
            left = state.remaining - take
            state = StreamState("body", remaining=left) if left else StreamState()
        elif state.mode in ("chunk-size", "trailers"):
            state, pos = _read_line(state, data, pos)
        else:  # chunk-data: the chunk and its CRLF
            take = min(state.remaining, len(data) - pos)
            pos += take
            left = state.remaining - take
            state = StreamState("chunk-data", remaining=left) if left else StreamState("chunk-size")
    return state, heads


def _read_head(state: StreamState, data: bytes, pos: int) -> tuple[StreamState, int, RequestHead | None]:
    start = len(state.head)
    buffer = state.head + data[pos : pos + HEAD_LIMIT + 4]
    if not buffer[:1] or not _TOKEN.match(buffer[:1]):
        return OPAQUE, len(data), None  # not a request line: TLS, another protocol
    end = _HEAD_END.search(buffer)
    if end is None:
        line_end = buffer.find(b"\n")
        if line_end >= 0 and not _REQUEST_LINE.match(buffer[:line_end]):
            return OPAQUE, len(data), None
        if len(buffer) > HEAD_LIMIT:
            # Too long to be a head a server would take; report what it says, then stop reading.
            return OPAQUE, len(data), _parse_head(buffer, complete=False)
        early = None if state.announced else _early_head(buffer)
        return replace(state, head=buffer, announced=state.announced or early is not None), len(data), early
    head_bytes = buffer[: end.end()]
    head = _parse_head(head_bytes, complete=True)
    if head is None:
        return OPAQUE, len(data), None
    next_pos = pos + end.end() - start
    return _after_head(head, head_bytes), next_pos, head


def _early_head(buffer: bytes) -> RequestHead | None:
    """The method of an unfinished head, once it is known or can no longer be a safe one."""
    token = _TOKEN.match(buffer)
    if token is None:
        return None
    method = token.group(0)
    if len(method) == len(buffer):
        if any(safe.startswith(method) for safe in _SAFE):
            return None  # "GE" may still become GET
    elif buffer[len(method) : len(method) + 1] != b" ":
        return None  # not a request line; the complete line decides
    target = buffer[len(method) + 1 :].split(b" ", 1)[0].split(b"\r", 1)[0].split(b"\n", 1)[0]
    # An unfinished method is shown as such ("PO…"): it can only become one that is not safe.
    shown = method.decode("latin-1") + ("…" if len(method) == len(buffer) else "")
    return RequestHead(shown, target.decode("latin-1") or "/", None, None, early=True)


def _parse_head(raw: bytes, complete: bool) -> RequestHead | None:
    first, _, rest = raw.partition(b"\n")
    line = _REQUEST_LINE.match(first)
    if line is None:
        return None
    method = line.group(1).decode("latin-1")
    target = line.group(2).decode("latin-1")
    fields = _fields(rest)
    upgrade = next((value for name, value in fields if name == "upgrade"), None)
    names = tuple(name for name, _ in fields) if complete else None
    return RequestHead(method, target, names, upgrade)


def _fields(rest: bytes) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    for raw_line in rest.split(b"\n"):
        name, colon, value = raw_line.strip(b"\r").partition(b":")
        if colon and name.strip():
            fields.append((name.strip().decode("latin-1").lower(), value.strip().decode("latin-1")))
    return fields


def _after_head(head: RequestHead, raw: bytes) -> StreamState:
    if head.method == "PRI" or head.upgrade:
        return OPAQUE  # HTTP/2 frames or another protocol follow: nothing more to read as HTTP/1.x
    fields = dict(_fields(raw.partition(b"\n")[2]))
    if "chunked" in fields.get("transfer-encoding", "").lower():
        return StreamState("chunk-size")
    try:
        length = int(fields.get("content-length", "0").split(",")[0].strip() or "0")
    except ValueError:
        return OPAQUE  # a server would refuse such a request; nothing after it can be framed
    return StreamState("body", remaining=length) if length > 0 else StreamState()


def _read_line(state: StreamState, data: bytes, pos: int) -> tuple[StreamState, int]:
    newline = data.find(b"\n", pos)
    if newline < 0:
        if len(state.head) + len(data) - pos > HEAD_LIMIT:
            return OPAQUE, len(data)
        return replace(state, head=state.head + data[pos:]), len(data)
    line = (state.head + data[pos:newline]).strip(b"\r")
    pos = newline + 1
    if state.mode == "trailers":
        return (StreamState() if not line else StreamState("trailers")), pos
    try:
        size = int(line.split(b";")[0].strip() or b"x", 16)
    except ValueError:
        return OPAQUE, pos
    if size == 0:
        return StreamState("trailers"), pos
    return StreamState("chunk-data", remaining=size + 2), pos
