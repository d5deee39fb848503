"""A warm pytest and a warm reference app: one process imports pytest, the suite's heavy
libraries and the reference app once, then forks a child per inner run or per app, so the
broken-build proofs (150-odd apps and inner runs) do not each pay for those imports.

Run as `python -m tests.contracts.warmpytest`; it reads one JSON request per line on stdin:
- `{"args": [...], "env": {...}, "cwd": "...", "out": "<file>"}` runs `pytest.main(args)` in a
  forked child (its own environment, working directory and output file) and answers
  `{"code": <exit status>}` once the child has ended;
- `{"serve": {...env}, "out": "<log file>"}` binds a listener on 127.0.0.1, forks a child that
  serves the reference app on it (configured from that environment, as `refapp serve` does) and
  answers `{"pid": <child>, "port": <port>}` at once; the caller stops it with a signal.
Nothing that reads the environment runs before the fork: the children read their own. The
children's pytest is told not to warn that these modules were imported before it could rewrite
their asserts (they are libraries to it, not tests).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from typing import Any

# Imported once, before any fork; the children inherit them (copy-on-write).
PRELOAD = (
    "pytest",
    "_pytest.pytester",
    "xdist",
    "filelock",
    "httpx",
    "respx",
    "hypothesis",
    "schemathesis",
    "playwright.sync_api",
    "pytest_playwright.pytest_playwright",
    "uvicorn",
    "refapp.app",
    # The project's own plugin and helpers: they read the environment only when called.
    "safety.plugin",
    "testkit.fixtures",
    "contracts.api",
)


def _child(request: dict[str, Any]) -> None:
    fd = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[:0] = [request["cwd"]]
    code = 3
    try:
        import pytest

        code = int(pytest.main(list(request["args"])))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _app_child(request: dict[str, Any], listener: socket.socket) -> None:
    code = 3
    try:
        fd = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.setsid()
        _die_with_parent()
        os.environ.clear()
        os.environ.update(request["serve"])
        from refapp.__main__ import main

        code = main(["serve", "--fd", str(listener.fileno())])
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _die_with_parent() -> None:
    # The app must not outlive the server (and so the outer test run) if it is killed. Linux only.
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _reap() -> None:
    # Apps end by a signal from the caller; collect them so they leave no zombies.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _answer(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def serve() -> None:
    import importlib
    from importlib.metadata import entry_points

    for name in PRELOAD:
        importlib.import_module(name)
    for plugin in entry_points(group="pytest11"):  # every installed pytest plugin, as pytest loads them
        importlib.import_module(plugin.module)
    for line in sys.stdin:
        _reap()
        request = json.loads(line)
        if "serve" in request:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", 0))
            listener.listen(128)
            pid = os.fork()
            if pid == 0:
                _app_child(request, listener)
            port = listener.getsockname()[1]
            listener.close()
            _answer({"pid": pid, "port": port})
            continue
        pid = os.fork()
        if pid == 0:
            _child(request)
        _, status = os.waitpid(pid, 0)
        _answer({"code": os.waitstatus_to_exitcode(status)})


if __name__ == "__main__":
    serve()
