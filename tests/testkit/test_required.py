"""No guard, no run: contracts/ and specs/ refuse to be collected without the e2e_safety plugin.

The suite is run in a subprocess, as a user would run it, so that the root conftest.py and
pytest.ini of this checkout are the ones that decide.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.required import suite_args

ROOT = Path(__file__).resolve().parents[2]
SUITE_DIRS = (ROOT / "contracts", ROOT / "specs")
USAGE_ERROR = 4


def run(*args: str, cwd: Path = ROOT, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=cwd,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_refused(done: subprocess.CompletedProcess[str]) -> None:
    out = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, f"expected a usage error (exit 4); got exit {done.returncode}:\n{out}"
    assert "e2e_safety is not active" in done.stderr, out
    assert "-p no:e2e_safety" in done.stderr and "-p safety.plugin" in done.stderr, out
    assert "Traceback" not in out, out
    # Nothing ran: refused before any test (for --pyargs, right after collection).
    assert " passed" not in out and " failed" not in out, out


@pytest.mark.parametrize(
    "args",
    [
        ("-p", "no:e2e_safety", "-o", "addopts="),
        ("-p", "no:e2e_safety", "-o", "addopts=", "contracts/test_health.py"),
        ("-p", "no:e2e_safety", "-o", "addopts=", "specs"),
        ("-p", "no:e2e_safety", "-o", "addopts=", "-m", "mutating", "."),
        # Reaching the suite by module name rather than path: caught at collection.
        ("-p", "no:e2e_safety", "-o", "addopts=", "--pyargs", "contracts.test_health"),
    ],
    ids=["bare", "one-file", "specs", "the-root", "pyargs"],
)
def test_the_suite_refuses_to_run_without_the_plugin(args: tuple[str, ...]) -> None:
    assert_refused(run(*args))


def test_a_test_file_run_from_outside_the_repository_is_refused_too(tmp_path: Path) -> None:
    assert_refused(run("-p", "no:e2e_safety", str(ROOT / "contracts" / "test_health.py"), cwd=tmp_path))


def test_plugin_autoload_switched_off_is_refused() -> None:
    assert_refused(run("contracts/test_health.py", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))


def test_a_pytest_outside_the_environment_says_how_to_run_the_suite(tmp_path: Path) -> None:
    """Only pytest and its own dependencies importable, as with a system pytest: no traceback."""
    import _pytest
    import iniconfig
    import packaging
    import pluggy
    import py
    import pygments

    bare = tmp_path / "site"
    bare.mkdir()
    for module in (pytest, _pytest, iniconfig, packaging, pluggy, pygments, py):
        source = Path(module.__file__ or "")
        source = source.parent if source.name == "__init__.py" else source
        (bare / source.name).symlink_to(source)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_", "PYTHON"))}
    code = f"import sys; sys.path[:0] = [{str(bare)!r}]; import pytest; sys.exit(pytest.console_main())"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code, "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout + done.stderr
    assert done.returncode == USAGE_ERROR, out
    assert "runs outside the project's environment: it cannot import httpx, playwright, schemathesis" in out
    assert ".tools/bin/uv run pytest" in out
    assert "Traceback" not in out and "ImportError while loading conftest" not in out, out


def test_the_help_can_be_read_without_the_plugin() -> None:
    done = run("-p", "no:e2e_safety", "--help")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "--safe-host" not in done.stdout, "the plugin's options are gone with the plugin"


def test_the_harness_own_tests_do_not_need_the_plugin() -> None:
    done = run("-p", "no:e2e_safety", "-o", "addopts=", "--collect-only", "-q", "tests/testkit/test_required.py")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "args",
    [(), ("-p", "no:e2e_safety", "-p", "safety.plugin"), ("-o", "addopts=")],
    ids=["entry-point", "by-module-name", "no-addopts"],
)
def test_with_the_plugin_the_suite_collects(args: tuple[str, ...]) -> None:
    done = run(*args, "--collect-only", "-q", "contracts/test_health.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "test_health.py::" in done.stdout


@pytest.mark.parametrize(
    ("arg", "hit"),
    [
        ("contracts", True),
        ("contracts/test_health.py::test_health", True),
        ("specs/", True),
        (".", True),
        ("tests", False),
        ("tests/safety/test_plugin.py", False),
        ("refapp", False),
        ("-q", False),
    ],
)
def test_which_arguments_reach_the_suite(arg: str, hit: bool) -> None:
    assert bool(suite_args([arg], ROOT, SUITE_DIRS)) is hit
