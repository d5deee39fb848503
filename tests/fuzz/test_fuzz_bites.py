"""Proof that the fuzz suite bites: it fails on deliberately broken builds of the reference app.

- `bad_body_500` (a JSON body that is not an object crashes with 500): fuzzing alone finds it.
- `long_idempotency_key_500` (an Idempotency-Key of 201..255 characters answers 500): the
  document's `maxLength: 255` makes schemathesis send a 255-character key (the coverage
  phase's boundary value), so fuzzing finds it with no test written for it.

- `validate_before_auth`, `other_user_403`, `leak_secret`: the custom check that the execute
  route checks auth first, the foreign ids the user pool mixes in (404, never 403), and the
  fixtures user whose actions all fail (whose execution records must not leak the secret).

(The brief also asked to show that the hand-written contract tests miss that bug. They do
not: `contracts/test_idempotency.py::test_replay_answers_the_same_and_runs_nothing` (a 255-character key)
catches it, so that half is not asserted here.)

Each run is a separate pytest process against its own embedded app, with a fixed seed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from safety.embedded import EmbeddedApp

ROOT = Path(__file__).resolve().parents[2]
SEED = "20261123"
EXAMPLES = "20"

pytestmark = [pytest.mark.slow]


def _broken_app(name: str) -> Iterator[EmbeddedApp]:
    app = EmbeddedApp(extra_env={"REFAPP_BROKEN": name, "REFAPP_ALLOW_BROKEN": "1"})
    app.start()
    try:
        yield app
    finally:
        app.stop()


@pytest.fixture
def bad_body_app() -> Iterator[EmbeddedApp]:
    yield from _broken_app("bad_body_500")


@pytest.fixture
def long_key_app() -> Iterator[EmbeddedApp]:
    yield from _broken_app("long_idempotency_key_500")


def _pytest(
    app: EmbeddedApp, args: list[str], artifacts: Path, examples: str = EXAMPLES
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "E2E_CRON_SECRET": app.cron_secret,
        "E2E_FUZZ_SEED": SEED,
        "E2E_FUZZ_EXAMPLES": examples,
        "E2E_FUZZ_ARTIFACTS": str(artifacts),
    }
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_TESTRUNUID", "PYTEST_ADDOPTS", "E2E_BASE_URL"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "--base-url", app.url, "-p", "no:randomly"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _fuzz_execute(app: EmbeddedApp, artifacts: Path) -> subprocess.CompletedProcess[str]:
    return _pytest(app, ["contracts/test_fuzz_execute.py", "-q"], artifacts)


def _failing_cases(artifacts: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((artifacts / "failures").glob("*.json"))]


def test_fuzzing_alone_finds_bad_body_500(bad_body_app: EmbeddedApp, tmp_path: Path) -> None:
    result = _fuzz_execute(bad_body_app, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"the fuzz run should fail on bad_body_500:\n{output[-3000:]}"
    assert "Server error" in output, output[-3000:]
    cases = _failing_cases(tmp_path)
    assert cases, f"no failing case was saved under {tmp_path}:\n{output[-2000:]}"
    bodies = [json.loads(c["request"]["body"]) for c in cases if c["response"]["status"] == 500]
    assert any(not isinstance(body, dict) for body in bodies), cases
    assert all("curl -X POST" in c["curl"] for c in cases)


def test_fuzzing_alone_finds_long_idempotency_key_500(long_key_app: EmbeddedApp, tmp_path: Path) -> None:
    result = _fuzz_execute(long_key_app, tmp_path / "fuzz")
    output = result.stdout + result.stderr
    assert result.returncode == 1, f"the fuzz run should fail on long_idempotency_key_500:\n{output[-3000:]}"
    cases = _failing_cases(tmp_path / "fuzz")
    keys = [c["request"]["headers"].get("Idempotency-Key", "") for c in cases if c["response"]["status"] == 500]
    assert any(201 <= len(key) <= 255 for key in keys), cases


@pytest.mark.parametrize(
    ("build", "files", "expected"),
    [
        ("validate_before_auth", ["contracts/test_fuzz_execute.py"], "auth_checked_first"),
        # Only 1 case in 8 carries another user's id: 20 examples may hold none of them.
        ("other_user_403", ["contracts/test_fuzz_execute.py"], "Received: 403"),
        (
            "leak_secret",
            ["contracts/test_fuzz_execute.py", "contracts/test_fuzz_routes.py"],
            "fixtures' secret",
        ),
    ],
)
def test_fuzzing_finds_other_broken_builds(build: str, files: list[str], expected: str, tmp_path: Path) -> None:
    for app in _broken_app(build):
        examples = "40" if build == "other_user_403" else EXAMPLES
        result = _pytest(app, [*files, "-q"], tmp_path, examples)
        output = result.stdout + result.stderr
        assert result.returncode == 1, f"the fuzz run should fail on {build}:\n{output[-3000:]}"
        assert expected in output, output[-3000:]
