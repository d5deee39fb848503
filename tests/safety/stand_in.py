"""A loopback HTTP server that records what it receives: a stand-in for production or staging.

Bound to an address such as 127.0.0.2 and listed in E2E_PROD_HOSTS, it plays
production without DNS; its log proves whether a request reached it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from testkit.settle import until_unchanged


@dataclass
class StandIn:
    host: str
    port: int = 0
    redirect_to: str | None = None
    redirect_status: int = 302
    # What GET /api/health says its "environment" is (None: the field is left out).
    environment: str | None = None
    received: list[tuple[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def writes(self) -> list[tuple[str, str]]:
        """Requests with a state-changing method."""
        return [(m, p) for m, p in self.received if m not in ("GET", "HEAD", "OPTIONS")]

    def settle(self, *, quiet: float = 0.5, timeout: float = 10.0) -> None:
        """Wait (bounded) until nothing new arrived for `quiet` seconds: requests a finished run's
        browser sent on its way out may still be in the server's threads."""
        until_unchanged(lambda: len(self.received), time.sleep, quiet=quiet, timeout=timeout)

    def start(self) -> StandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stand_in.received.append((self.command, self.path))
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                if self.path == "/api/health" and stand_in.environment is not None:
                    health = {"ok": True, "environment": stand_in.environment}
                    self._send(200, "application/json", json.dumps(health).encode())
                    return
                if self.path == "/sw.js":
                    self._send(200, "text/javascript", b"self.addEventListener('fetch', () => {});")
                    return
                if self.path.startswith("/page"):
                    self._send(200, "text/html", b"<!doctype html><title>stand-in</title><h1>stand-in</h1>")
                    return
                if stand_in.redirect_to is not None:
                    self.send_response(stand_in.redirect_status)
                    self.send_header("Location", stand_in.redirect_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _send(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
