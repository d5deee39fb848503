"""When the suite runs on two pytest-xdist workers by default, and when it does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.workers import DEFAULT_DIST, DEFAULT_WORKERS, apply_default_workers, default_workers

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < DEFAULT_WORKERS, reason="one core: the suite runs in one process there by design"
)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> list[Path]:
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "test_a.py").write_text("def test_a(): pass\n")
    return [pytester.path / "contracts"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), DEFAULT_WORKERS),  # a bare run: the folder above the suite
        (("contracts",), DEFAULT_WORKERS),
        (("contracts", "-m", "mutating"), DEFAULT_WORKERS),
        (("contracts", "-n", "0"), 0),
        (("contracts", "-n", "3"), 0),  # chosen by the user: left as is
        (("contracts", "--dist", "load"), 0),
        (("contracts", "-k", "idempotency"), 0),
        (("contracts", "--collect-only"), 0),
        (("contracts", "--pdb"), 0),
        (("contracts/test_a.py",), 0),
        (("contracts/test_a.py::test_a",), 0),
        (("contracts", "-p", "no:xdist"), 0),
    ],
)
def test_default_workers(pytester: pytest.Pytester, suite: list[Path], args: tuple[str, ...], expected: int) -> None:
    config = pytester.parseconfig(*args)
    assert default_workers(config, suite) == expected


def test_the_default_sets_workers_and_the_work_stealing_scheduler(pytester: pytest.Pytester, suite: list[Path]) -> None:
    config = pytester.parseconfig("contracts")
    apply_default_workers(config, suite)
    assert (config.option.numprocesses, config.option.dist) == (DEFAULT_WORKERS, DEFAULT_DIST)


def test_the_root_pytest_starts_workers_for_the_suite() -> None:
    """End to end: the root conftest.py applies the default before pytest-xdist reads -n."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    command = [sys.executable, "-m", "pytest", "contracts", "-m", "smoke and not smoke", "-p", "no:randomly"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert f"created: {DEFAULT_WORKERS}/{DEFAULT_WORKERS} workers" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 5, done.stdout + done.stderr  # everything deselected
