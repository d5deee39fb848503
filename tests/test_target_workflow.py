"""The workflow that runs the suite against a deployed target (staging, or production smoke).

It cannot run here, so these tests read it: the general rules of tests/test_workflows.py
hold (zizmor included, which runs over the whole folder there), the rules below hold, and
each rule fails on the workflow broken that way. The job's own shell script is run with a
stand-in `uv` to see the pytest command each mode builds.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_workflows import ROOT, WORKFLOWS, _on, check_text, check_workflow, load, triggers

TARGET = WORKFLOWS / "e2e-target.yml"
#: What a target run may need, and nothing else: the README's QA section names these.
SECRETS = {"E2E_EMAIL", "E2E_PASSWORD", "E2E_CRON_SECRET", "E2E_EMAIL_2", "E2E_PASSWORD_2"}
ENTRY_POINTS = {"workflow_dispatch", "workflow_call"}


def _pytest_step(doc: dict[Any, Any]) -> dict[str, Any]:
    for step in doc["jobs"]["e2e"]["steps"]:
        if "pytest" in str(step.get("run", "")):
            return step  # type: ignore[no-any-return]
    raise AssertionError("jobs.e2e has no step that runs pytest")


def check_target(doc: dict[Any, Any]) -> list[str]:
    """Every rule of the target workflow that `doc` breaks, as "<rule>: <what>"."""
    problems: list[str] = []
    on = triggers(doc)
    if set(on) != ENTRY_POINTS:
        problems.append(f"entry: triggers are {sorted(on)}, not exactly {sorted(ENTRY_POINTS)}")
    for event in sorted(ENTRY_POINTS & set(on)):
        inputs = (on[event] or {}).get("inputs") or {}
        if not (inputs.get("base-url") or {}).get("required"):
            problems.append(f"entry: {event} does not require a base-url input")
        strict = inputs.get("strict") or {}
        if strict.get("type") != "boolean" or strict.get("default") is not False:
            problems.append(f"strict: {event} has no boolean strict input that is off by default")
    declared = set(((on.get("workflow_call") or {}).get("secrets") or {}).keys())
    used = set(re.findall(r"secrets\.(\w+)", str(doc)))
    if used - SECRETS or declared != SECRETS:
        problems.append(f"secrets: uses {sorted(used)}, declares {sorted(declared)}; expected {sorted(SECRETS)}")
    if "E2E_ALLOW_PROD_SCORE" in str(doc):
        problems.append("prod: the workflow sets E2E_ALLOW_PROD_SCORE")
    for job_id, job in (doc.get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            if "${{" in str(step.get("run", "")):
                problems.append(f"injection: jobs.{job_id}.steps[{index}] expands ${{{{ }}}} inside `run`")
    uploads = [
        step
        for job in (doc.get("jobs") or {}).values()
        for step in job.get("steps") or []
        if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    ]
    if not any("failure()" in str(step.get("if", "")) and "test-results" in str(step.get("with")) for step in uploads):
        problems.append("artifacts: no upload of artifacts/ and test-results/ on failure")
    return problems


def _doc() -> dict[Any, Any]:
    _, doc = load(TARGET)
    assert isinstance(doc, dict)
    return doc


def test_the_target_workflow_follows_the_general_rules_and_its_own() -> None:
    text, doc = load(TARGET)
    assert check_text(text) + check_workflow(doc, main=False) + check_target(doc) == []


MUTATIONS: dict[str, tuple[str, Callable[[dict[Any, Any]], None]]] = {
    "runs on pull requests": ("entry", lambda d: _on(d).update(pull_request=None)),
    "base-url optional": (
        "entry",
        lambda d: _on(d)["workflow_call"]["inputs"]["base-url"].update(required=False),
    ),
    "a secret more": ("secrets", lambda d: _pytest_step(d)["env"].update(TOKEN="${{ secrets.DEPLOY_TOKEN }}")),
    "a secret undeclared": ("secrets", lambda d: _on(d)["workflow_call"]["secrets"].pop("E2E_CRON_SECRET")),
    "prod override": ("prod", lambda d: _pytest_step(d)["env"].update(E2E_ALLOW_PROD_SCORE="1")),
    "input in the script": (
        "injection",
        lambda d: _pytest_step(d).update(run="uv run pytest --base-url ${{ inputs.base-url }}"),
    ),
    "no artifacts": ("artifacts", lambda d: d["jobs"]["e2e"]["steps"].pop()),
    "strict on by default": ("strict", lambda d: _on(d)["workflow_dispatch"]["inputs"]["strict"].update(default=True)),
    "no strict input": ("strict", lambda d: _on(d)["workflow_call"]["inputs"].pop("strict")),
    "second account undeclared": ("secrets", lambda d: _on(d)["workflow_call"]["secrets"].pop("E2E_PASSWORD_2")),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_rule_fails_on_the_workflow_broken_that_way(name: str) -> None:
    rule, mutate = MUTATIONS[name]
    broken = copy.deepcopy(_doc())
    mutate(broken)
    assert [problem for problem in check_target(broken) if problem.startswith(f"{rule}:")]


def _run_step(tmp_path: Path, mode: str, base_url: str, strict: str = "false") -> tuple[int, list[str]]:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash on PATH: install bash to run the workflow's shell step")
    record = tmp_path / "args"
    fake_uv = tmp_path / "bin" / "uv"
    fake_uv.parent.mkdir(exist_ok=True)
    fake_uv.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{record}"\n', encoding="utf-8")
    fake_uv.chmod(fake_uv.stat().st_mode | stat.S_IXUSR)
    record.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{fake_uv.parent}{os.pathsep}{os.environ['PATH']}", "MODE": mode, "STRICT": strict}
    env["BASE_URL"] = base_url
    result = subprocess.run(
        [bash, "-eo", "pipefail", "-c", _pytest_step(_doc())["run"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    args = record.read_text(encoding="utf-8").splitlines() if record.exists() else []
    return result.returncode, args


def test_smoke_mode_runs_only_the_read_only_checks_against_the_given_url(tmp_path: Path) -> None:
    code, args = _run_step(tmp_path, "smoke", "https://evenslouis.ca")
    assert code == 0
    assert args[:4] == ["run", "pytest", "contracts", "specs"]
    assert args[args.index("-m") + 1] == "smoke"
    assert args[args.index("--base-url") + 1] == "https://evenslouis.ca"


def test_full_mode_selects_everything(tmp_path: Path) -> None:
    url = "https://staging.example.com/a path; rm -rf /"
    code, args = _run_step(tmp_path, "full", url)
    assert code == 0
    assert "-m" not in args
    # The URL is one argument, however it is spelt: it never reaches the shell as code.
    assert args[args.index("--base-url") + 1] == url


def test_strict_input_makes_the_run_strict(tmp_path: Path) -> None:
    code, args = _run_step(tmp_path, "full", "https://staging.example.com", strict="true")
    assert code == 0 and "--e2e-strict" in args
    code, args = _run_step(tmp_path, "full", "https://staging.example.com", strict="false")
    assert code == 0 and "--e2e-strict" not in args


def test_the_second_account_reaches_pytest() -> None:
    env = _pytest_step(_doc())["env"]
    assert env["E2E_EMAIL_2"] == "${{ secrets.E2E_EMAIL_2 }}"
    assert env["E2E_PASSWORD_2"] == "${{ secrets.E2E_PASSWORD_2 }}"


def test_an_unknown_mode_is_an_error_that_runs_nothing(tmp_path: Path) -> None:
    code, args = _run_step(tmp_path, "everything", "https://staging.example.com")
    assert (code, args) == (2, [])


# --- ci.yml does what scripts/test does (.ci/run calls scripts/test) -----------------------

CI = WORKFLOWS / "ci.yml"
SCRIPTS_TEST = ROOT / "scripts" / "test"


def _ruff_commands(text: str) -> set[str]:
    """The ruff subcommands with their check flags (`check`, `format --check`) in a script."""
    return {" ".join(m.group(1).split()) for m in re.finditer(r"ruff ((?:check|format)(?: --check)?)", text)}


def test_ci_lints_the_way_scripts_test_does() -> None:
    _, doc = load(CI)
    lint = " ".join(str(step.get("run", "")) for step in doc["jobs"]["lint"]["steps"])
    expected = _ruff_commands(SCRIPTS_TEST.read_text(encoding="utf-8"))
    assert expected >= {"check", "format --check"}
    assert _ruff_commands(lint) >= expected


def test_ci_runs_the_reference_app_tests_with_postgresql() -> None:
    """Without REFAPP_TEST_POSTGRES_URL those tests skip; the job with the server runs them all."""
    _, doc = load(CI)
    jobs = [job for job in doc["jobs"].values() if "REFAPP_TEST_POSTGRES_URL" in (job.get("env") or {})]
    assert jobs, "no job sets REFAPP_TEST_POSTGRES_URL"
    runs = " ".join(str(step.get("run", "")) for job in jobs for step in job.get("steps") or [])
    assert re.search(r"pytest tests/refapp(\s|$)", runs), runs
