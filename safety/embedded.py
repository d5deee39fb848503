"""Run the bundled reference app on a loopback port for the length of a test session.

The parent binds 127.0.0.1:0 and hands the listening socket to the child, so there
is no window in which another process can take the port. The child dies with the
parent (PR_SET_PDEATHSIG), so an interrupted or killed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

START_TIMEOUT = 90.0  # a cold start on a loaded 2-core machine; costs nothing when fast
_PR_SET_PDEATHSIG = 1


class EmbeddedAppError(RuntimeError):
    """The reference app did not come up; the message carries the end of its log."""


def _die_with_parent() -> None:
    # Linux only; elsewhere the atexit/unconfigure cleanup is the only net.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedApp:
    """The reference app with its own SQLite database and cron secret.

    `processes` > 1 starts that many server processes on the one listening socket (the
    kernel spreads connections between them), as a multi-instance deployment would run;
    they share the database, so set DATABASE_URL in `extra_env` to use a server database.
    """

    def __init__(self, extra_env: dict[str, str] | None = None, host: str = "127.0.0.1", processes: int = 1) -> None:
        if not host.startswith("127."):
            # Servers this project starts listen on loopback only.
            raise ValueError(f"the embedded app listens on loopback only; {host!r} is not in 127.0.0.0/8.")
        if processes < 1:
            raise ValueError(f"the embedded app needs at least one process, not {processes}.")
        self.host = host
        self.processes = processes
        self.workdir = Path(tempfile.mkdtemp(prefix="e2e-refapp-"))
        self.cron_secret = secrets.token_urlsafe(24)
        self.access_log = self.workdir / "access.log"
        self._extra_env = extra_env or {}
        self._processes: list[subprocess.Popen[bytes]] = []
        self.url = ""

    def start(self) -> str:
        """Start the app, wait for /api/health, and return its base URL."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(128)
        port = listener.getsockname()[1]
        self.url = f"http://{self.host}:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.workdir / 'refapp.sqlite3'}",
            "CRON_SECRET": self.cron_secret,
            "REFAPP_E2E_FIXTURES": "1",
            "REFAPP_ACCESS_LOG": str(self.access_log),
            **self._extra_env,
        }
        # The harness's own choices must not leak into the app's configuration. REFAPP_READINGS
        # does pass through from the environment: it picks a correct reading, not a broken build.
        # The app is the target, not a client: it needs no child guard (safety.child_guard).
        for name in ("REFAPP_BROKEN", "REFAPP_ALLOW_BROKEN", "REFAPP_ENVIRONMENT", "E2E_SAFETY_CHILD_GUARD"):
            if name not in self._extra_env:
                env.pop(name, None)
        log = (self.workdir / "server.log").open("wb")
        try:
            for _ in range(self.processes):
                self._processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "refapp", "serve", "--fd", str(listener.fileno())],
                        pass_fds=(listener.fileno(),),
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                        preexec_fn=_die_with_parent,
                    )
                )
        finally:
            listener.close()
            log.close()
        self._wait_healthy()
        return self.url

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self._processes]

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                for process in self._processes:
                    if process.poll() is not None:
                        code, tail = process.returncode, self.log_tail()
                        self.stop()
                        raise EmbeddedAppError(
                            f"the embedded reference app exited with code {code} "
                            f"before answering /api/health. Its log ends with:\n{tail}"
                        )
                try:
                    if client.get(f"{self.url}/api/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        raise EmbeddedAppError(
            f"the embedded reference app did not answer {self.url}/api/health within "
            f"{START_TIMEOUT:g} s. Its log ends with:\n{tail}"
        )

    def log_tail(self, lines: int = 20) -> str:
        path = self.workdir / "server.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Stop every process group (TERM, then KILL) and remove the working directory."""
        processes, self._processes = self._processes, []
        for process in processes:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)
