"""scripts/steps.sh: scripts/test's steps side by side, every one run to its end, any failure failing the run."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRELUDE = f"""
set -euo pipefail
say() {{ printf '==> %s\\n' "$*" >&2; }}
source {ROOT / "scripts" / "steps.sh"}
steps_begin "$1"
trap stop_jobs EXIT
"""


def _run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "driver.sh"
    script.write_text(PRELUDE + body)
    return subprocess.run(
        ["bash", str(script), str(tmp_path / "logs")], capture_output=True, text=True, timeout=60, check=False
    )


def test_every_step_runs_to_its_end_and_a_failed_one_fails_the_run(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        """
start slow bash -c 'sleep 1; echo slow-out'
start failing bash -c 'echo failing-out; exit 3'
run foreground bash -c 'echo foreground-out'
run foreground-failing bash -c 'exit 4'
finish
steps_end
""",
    )
    assert result.returncode == 1, result.stderr
    err = result.stderr
    assert "FAILED: failing (exit 3)" in err
    assert "FAILED: foreground-failing (exit 4)" in err
    # Durations are whole seconds by the wall clock: a loaded machine may take longer, never less.
    slow = re.search(r"passed: slow, in (\d+) s", err)  # ran to its end although others had failed
    assert slow is not None and int(slow.group(1)) >= 1, err
    assert re.search(r"passed: foreground, in \d+ s", err), err
    assert "FAILED: foreground-failing failing (their output:" in err
    # A background step's output is printed whole, under its name, when it ends.
    assert err.index("---- output of: slow") < err.index("slow-out") < err.index("passed: slow")
    assert "foreground-out" in result.stdout
    logs = tmp_path / "logs"
    assert (logs / "slow.log").read_text() == "slow-out\n"
    assert (logs / "failing.log").read_text() == "failing-out\n"
    assert int((logs / "slow.seconds").read_text().strip()) >= 1


def test_a_run_whose_steps_all_pass_passes(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        """
start one env WORD='two words' bash -c 'echo "$WORD" "$0"' 'an argument'
run two true
finish
steps_end
""",
    )
    assert result.returncode == 0, result.stderr
    assert "all checks passed in" in result.stderr
    assert (tmp_path / "logs" / "one.log").read_text() == "two words an argument\n"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers signal 0: only a running process counts.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_stopping_the_script_stops_its_background_steps_whole(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    script = tmp_path / "driver.sh"
    script.write_text(
        PRELUDE
        + f"""
start sleeper bash -c 'sleep 60 & echo $! > {pid_file}; wait'
run foreground sleep 60
finish
"""
    )
    driver = subprocess.Popen(
        ["bash", str(script), str(tmp_path / "logs")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        for _ in range(300):  # bounded: 30 s
            if pid_file.exists() and pid_file.read_text().strip():
                break
            time.sleep(0.1)
        grandchild = int(pid_file.read_text())
        assert _alive(grandchild)
        driver.send_signal(signal.SIGTERM)
        driver.wait(timeout=30)
        for _ in range(300):  # bounded: 30 s
            if not _alive(grandchild):
                break
            time.sleep(0.1)
        assert not _alive(grandchild), "a background step's child outlived the script"
    finally:
        # The foreground `sleep 60` stays in the driver's own process group, started here: end it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)
        driver.wait(timeout=30)
        # Should the test fail, its background step is not left running either.
        if pid_file.exists() and pid_file.read_text().strip():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(int(pid_file.read_text())), signal.SIGKILL)
