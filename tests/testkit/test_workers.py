"""When the suite runs on pytest-xdist workers by default, how many, and when it does not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.overlap import OverlapPlugin
from testkit.workers import (
    DEFAULT_DIST,
    DEFAULT_WORKERS,
    OVERLAP_PLUGIN,
    OVERLAP_WORKERS,
    apply_default_workers,
    default_workers,
)
from tests.contracts.markdump import PREFIX, WAITING

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
        ((), OVERLAP_WORKERS),  # a bare run: the folder above the suite
        (("contracts",), OVERLAP_WORKERS),
        (("contracts", "-m", "mutating"), OVERLAP_WORKERS),
        (("contracts", "-n", "0"), 0),
        (("contracts", "-n", "3"), 0),  # chosen by the user: left as is
        (("contracts", "--dist", "load"), 0),
        (("contracts", "-n", "2", "--dist", "worksteal"), 0),  # the previous default, by hand
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
    assert default_workers(config, suite, OWN_USERS) == expected


OWN_USERS: dict[str, str] = {}
SHARED = {"E2E_EMAIL": "qa@example.com", "E2E_PASSWORD": "secret"}


def test_the_shared_account_keeps_two_workers(pytester: pytest.Pytester, suite: list[Path]) -> None:
    assert default_workers(pytester.parseconfig("contracts"), suite, SHARED) == DEFAULT_WORKERS
    assert default_workers(pytester.parseconfig("contracts", "-n", "0"), suite, SHARED) == 0


def test_own_users_get_the_overlap_scheduler(pytester: pytest.Pytester, suite: list[Path]) -> None:
    config = pytester.parseconfig("contracts")
    apply_default_workers(config, suite, OWN_USERS)
    assert (config.option.numprocesses, config.option.dist) == (OVERLAP_WORKERS, DEFAULT_DIST)
    plugin = config.pluginmanager.get_plugin(OVERLAP_PLUGIN)
    assert isinstance(plugin, OverlapPlugin)
    plugin.pytest_unconfigure()  # its temporary directory


def test_the_shared_account_keeps_plain_work_stealing(pytester: pytest.Pytester, suite: list[Path]) -> None:
    config = pytester.parseconfig("contracts")
    apply_default_workers(config, suite, SHARED)
    assert (config.option.numprocesses, config.option.dist) == (DEFAULT_WORKERS, DEFAULT_DIST)
    assert config.pluginmanager.get_plugin(OVERLAP_PLUGIN) is None


def test_no_default_registers_nothing(pytester: pytest.Pytester, suite: list[Path]) -> None:
    config = pytester.parseconfig("contracts", "-n", "2")
    apply_default_workers(config, suite, OWN_USERS)
    assert config.option.numprocesses == 2
    assert config.pluginmanager.get_plugin(OVERLAP_PLUGIN) is None


def test_there_are_workers_for_every_waiting_test_of_the_suite_and_one_more() -> None:
    """OVERLAP_WORKERS is a constant (workers start before anything is collected): it must keep up
    with the suite's waiting tests, or a waiting test shares a worker and the run lasts its waits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    command = [
        *(sys.executable, "-m", "pytest", "contracts", "specs", "-m", "slow", "--collect-only", "-q", "-n", "0"),
        *("-p", "tests.contracts.markdump"),
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    rows = [line[len(PREFIX) :].split("\t") for line in done.stdout.splitlines() if line.startswith(PREFIX)]
    waiting = [node for node, marks in rows if WAITING in marks.split(",")]
    assert done.returncode == 0 and waiting, done.stdout + done.stderr
    assert len(waiting) + 1 <= OVERLAP_WORKERS, (
        f"{len(waiting)} waiting tests need {len(waiting) + 1} workers: {waiting}"
    )


def test_the_root_pytest_starts_workers_for_the_suite() -> None:
    """End to end: the root conftest.py applies the default before pytest-xdist reads -n."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    command = [sys.executable, "-m", "pytest", "contracts", "-m", "smoke and not smoke", "-p", "no:randomly"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert f"created: {OVERLAP_WORKERS}/{OVERLAP_WORKERS} workers" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 5, done.stdout + done.stderr  # everything deselected
