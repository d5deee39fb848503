from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from refapp import __main__ as cli


def test_non_loopback_host_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["serve", "--host", "0.0.0.0"])
    assert caught.value.code == 2
    assert "loopback" in capsys.readouterr().err


def test_loopback_names() -> None:
    assert cli.is_loopback("127.0.0.1") and cli.is_loopback("127.8.9.10")
    assert cli.is_loopback("::1") and cli.is_loopback("localhost")
    assert not cli.is_loopback("10.0.0.1") and not cli.is_loopback("example.com")


def test_serve_on_an_inherited_socket(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "REFAPP_ACCESS_LOG": str(tmp_path / "access.log"),
    }
    for name in ("REFAPP_BROKEN", "REFAPP_ALLOW_BROKEN", "E2E_EMAIL", "E2E_PASSWORD"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "refapp", "serve", "--fd", str(listener.fileno())],
        pass_fds=(listener.fileno(),),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    listener.close()
    try:
        deadline = time.monotonic() + 90  # a cold start on a loaded machine
        response = None
        with httpx.Client(trust_env=False, timeout=30.0) as client:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    response = client.get(f"http://127.0.0.1:{port}/api/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
        assert response is not None, process.stdout.read() if process.stdout else ""
        assert response.status_code == 200
        assert response.json()["ok"] is True
        assert "date" in response.headers
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            output = process.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output = process.communicate()[0]
    # uvicorn re-raises SIGTERM after its graceful shutdown
    assert process.returncode in (0, -signal.SIGTERM), output
    # a slow start may have seen the first probes time out and retried
    lines = set((tmp_path / "access.log").read_text().splitlines())
    assert lines == {"GET /api/health 200"}
