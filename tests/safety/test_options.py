"""The plugin's face, through pytester: the `safety` option group, its precedence, the variables
in `pytest --help`, and the markers declared once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from safety.plugin import MARKERS
from safety.variables import ENV_VARIABLES, HARNESS_ENV
from tests.safety.stand_in import StandIn

ROOT = Path(__file__).resolve().parents[2]
MARKER_NAMES = [line.split(":", 1)[0].split("(", 1)[0] for line in MARKERS]


def test_help_shows_the_safety_group_and_every_variable(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == 0
    out = result.stdout.str()
    assert "production safety (e2e_safety)" in out
    assert "--safe-host=HOST" in out and "--prod-host=HOST" in out
    epilogue = out[out.index("e2e safety environment variables") :]
    for variable in ENV_VARIABLES:
        assert f"  {variable.name} " in epilogue, f"{variable.name} missing from the help epilogue"


def test_every_harness_variable_is_listed_for_help() -> None:
    """The one tuple the inner runs scrub comes from the one list --help shows."""
    assert set(HARNESS_ENV) <= {v.name for v in ENV_VARIABLES}
    assert {"E2E_BASE_URL", "E2E_SAFE_HOSTS", "E2E_PROD_HOSTS", "E2E_ALLOW_PROD_SCORE"} <= set(HARNESS_ENV)


def test_every_e2e_variable_the_project_reads_is_listed() -> None:
    """A variable added anywhere in the code must reach `pytest --help` (and the scrubbing list)."""
    used: set[str] = set()
    for folder in ("safety", "contracts", "specs", "testkit", "scripts", "refapp"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and (path.suffix in (".py", ".sh") or path.name in ("suite", "test")):
                used |= set(re.findall(r"\bE2E_[A-Z][A-Z_]*[A-Z]\b", path.read_text(errors="replace")))
    listed = {v.name for v in ENV_VARIABLES}
    assert used, "the scan found the variables"
    assert used <= listed, f"read in the code but missing from safety/variables.py: {sorted(used - listed)}"


def test_each_marker_is_declared_once_wherever_the_plugin_is(pytester: pytest.Pytester) -> None:
    out = pytester.runpytest("--markers").stdout.str()
    for name in MARKER_NAMES:
        count = out.count(f"@pytest.mark.{name}:") + out.count(f"@pytest.mark.{name}(")
        assert count == 1, f"{name} is declared {count} times in `pytest --markers`"


def test_the_repository_declares_its_markers_once_too() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--markers"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in MARKER_NAMES:
        count = done.stdout.count(f"@pytest.mark.{name}:") + done.stdout.count(f"@pytest.mark.{name}(")
        assert count == 1, f"{name} is declared {count} times in `pytest --markers` at the repository root"


def _class_line(pytester: pytest.Pytester, *args: str) -> str:
    pytester.makepyfile("def test_ok(): pass")
    result = pytester.runpytest("--collect-only", *args)
    lines = [line for line in result.outlines if line.startswith("e2e target class:")]
    assert lines, result.stdout.str() + result.stderr.str()
    return lines[0]


@pytest.mark.parametrize(
    ("cli", "env", "ini", "expected"),
    [
        (["--safe-host=127.0.0.3"], "127.0.0.9", "127.0.0.8", "safe: 127.0.0.3 is listed as safe in --safe-host."),
        ([], "127.0.0.9,127.0.0.3", "127.0.0.8", "safe: 127.0.0.3 is listed as safe in E2E_SAFE_HOSTS."),
        ([], "", "127.0.0.3", "safe: 127.0.0.3 is listed as safe in pytest.ini safe_hosts."),
        # A source that lists hosts replaces the ones below it: the ini's entry no longer counts.
        ([], "127.0.0.9", "127.0.0.3", "local: 127.0.0.3 is a loopback address."),
        (["--safe-host=127.0.0.9"], "127.0.0.3", "", "local: 127.0.0.3 is a loopback address."),
    ],
)
def test_safe_hosts_come_from_the_cli_else_the_env_else_the_ini(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    staging: StandIn,
    cli: list[str],
    env: str,
    ini: str,
    expected: str,
) -> None:
    pytester.makeini(f"[pytest]\naddopts = -p no:cacheprovider\nsafe_hosts = {ini}\n")
    monkeypatch.setenv("E2E_SAFE_HOSTS", env)
    line = _class_line(pytester, f"--base-url={staging.url}", *cli)
    assert line == f"e2e target class: {expected}"


@pytest.mark.parametrize(
    ("cli", "env", "ini", "source"),
    [
        (["--prod-host=127.0.0.3"], "", "", "--prod-host"),
        (["--prod-host", "127.0.0.9,127.0.0.3"], "", "", "--prod-host"),
        (["--prod-host=127.0.0.9"], "127.0.0.3", "", "E2E_PROD_HOSTS"),
        (["--prod-host=127.0.0.9"], "127.0.0.8", "127.0.0.3", "pytest.ini prod_hosts"),
    ],
)
def test_a_production_listing_counts_from_any_source(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    staging: StandIn,
    cli: list[str],
    env: str,
    ini: str,
    source: str,
) -> None:
    pytester.makeini(f"[pytest]\naddopts = -p no:cacheprovider\nprod_hosts = {ini}\n")
    monkeypatch.setenv("E2E_PROD_HOSTS", env)
    line = _class_line(pytester, f"--base-url={staging.url}", *cli)
    assert line == f"e2e target class: prod: 127.0.0.3 is listed as production in {source}."


def test_a_bad_safe_host_on_the_command_line_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--safe-host=https://staging.example.com/")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'https://staging.example.com/' in --safe-host is not a host*"])
