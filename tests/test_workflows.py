"""The GitHub Actions workflows: zizmor finds nothing, and the rules CI depends on hold.

The workflows cannot run here, so these tests read them. `check_workflow` holds the
structural rules (pinned actions, triggers, read-only token, no secrets on pull requests,
timeouts, the final `ci-ok` job, shards, the PostgreSQL service); every rule is also run
against a workflow broken in exactly that way, so a rule that cannot fail is caught.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
CI = WORKFLOWS / "ci.yml"
BOOTSTRAP = ROOT / "scripts" / "bootstrap.sh"
FINAL_JOB = "ci-ok"

#: owner/repo[/path]@<full commit SHA>
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[^@\s]+)?@[0-9a-f]{40}$")
#: docker://image@sha256:<digest>
PINNED_DOCKER = re.compile(r"^docker://[^@\s]+@sha256:[0-9a-f]{64}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?P<comment>#.*)?$")
VERSION_COMMENT = re.compile(r"^#\s*v\d+\.\d+\.\d+\b")
#: Triggers that run with a write token and secrets on code from forks.
FORBIDDEN_TRIGGERS = {"pull_request_target", "workflow_run"}
#: Triggers that run on (or after) a pull request's code, from forks too.
PULL_REQUEST_TRIGGERS = {"pull_request", *FORBIDDEN_TRIGGERS}
READ_ONLY = {"read", "none"}


# --- the checker ------------------------------------------------------------------------


def _on(doc: dict[Any, Any]) -> Any:
    # YAML 1.1 (PyYAML) reads the bare key `on` as the boolean True.
    return doc["on"] if "on" in doc else doc.get(True)


def triggers(doc: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` section as {event: its configuration or {}}."""
    on = _on(doc)
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {str(event): {} for event in on}
    if isinstance(on, dict):
        return {str(event): (config or {}) for event, config in on.items()}
    return {}


def iter_uses(doc: dict[Any, Any]) -> Iterator[tuple[str, str]]:
    """(where, reference) for every `uses:` of a job (reusable workflow) or a step."""
    for job_id, job in (doc.get("jobs") or {}).items():
        if "uses" in job:
            yield f"jobs.{job_id}", str(job["uses"])
        for index, step in enumerate(job.get("steps") or []):
            if "uses" in step:
                yield f"jobs.{job_id}.steps[{index}]", str(step["uses"])


def _write_permissions(permissions: Any) -> bool:
    if permissions is None:
        return False
    if isinstance(permissions, str):
        return permissions != "read-all"
    if isinstance(permissions, dict):
        return any(str(level) not in READ_ONLY for level in permissions.values())
    return True


def check_text(text: str) -> list[str]:
    """Rules on the file's text (comments are lost by the YAML parser)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match or match["ref"].startswith("./"):
            continue
        if not VERSION_COMMENT.match(match["comment"] or ""):
            problems.append(f"version-comment: line {number}: {match['ref']} has no `# vX.Y.Z` comment")
    return problems


def check_workflow(doc: Any, *, main: bool) -> list[str]:
    """Every rule broken by the parsed workflow `doc`, as "<rule>: <what>" strings.

    `main`: the pull request / push workflow, which must also carry the triggers, the
    concurrency group and the final `ci-ok` job.
    """
    if not isinstance(doc, dict):
        return ["syntax: not a YAML mapping"]
    problems: list[str] = []
    jobs: dict[str, Any] = doc.get("jobs") or {}
    on = triggers(doc)

    for where, ref in iter_uses(doc):
        if ref.startswith("./") or PINNED.match(ref) or PINNED_DOCKER.match(ref):
            continue
        problems.append(f"unpinned-uses: {where}: {ref} is not pinned to a full commit SHA")

    for event in sorted(FORBIDDEN_TRIGGERS & set(on)):
        problems.append(f"triggers: `{event}` runs fork code with secrets and a write token")
    if main:
        if "pull_request" not in on:
            problems.append("triggers: no `pull_request`")
        push = on.get("push")
        if push is None:
            problems.append("triggers: no `push`")
        else:
            branches = push.get("branches")
            if (branches is not None and "main" not in branches) or "main" in (push.get("branches-ignore") or []):
                problems.append(f"triggers: `push` does not include main (branches: {branches})")

    if "permissions" not in doc:
        problems.append("permissions: no top-level `permissions` (the token gets the repository default)")
    elif _write_permissions(doc["permissions"]):
        problems.append(f"permissions: top-level permissions are not read-only: {doc['permissions']!r}")

    runs_on_pull_requests = bool(PULL_REQUEST_TRIGGERS & set(on))
    for job_id, job in jobs.items():
        if "permissions" not in job:
            problems.append(f"job-permissions: jobs.{job_id} does not declare its `permissions`")
        elif runs_on_pull_requests and _write_permissions(job["permissions"]):
            problems.append(f"job-permissions: jobs.{job_id} gets write permissions on pull requests")
        if "uses" not in job and "timeout-minutes" not in job:
            problems.append(f"timeout: jobs.{job_id} has no `timeout-minutes`")
        if job.get("secrets") == "inherit":
            problems.append(f"secrets: jobs.{job_id} passes `secrets: inherit`")
        for index, step in enumerate(job.get("steps") or []):
            is_checkout = str(step.get("uses", "")).startswith("actions/checkout@")
            if is_checkout and (step.get("with") or {}).get("persist-credentials") is not False:
                problems.append(f"checkout: jobs.{job_id}.steps[{index}] keeps the token in .git/config")
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        if isinstance(matrix, dict) and "shard" in matrix:
            total = matrix.get("total") or []
            if len(total) != 1 or list(matrix["shard"]) != list(range(1, int(total[0]) + 1)):
                problems.append(f"shards: jobs.{job_id}: shard {matrix['shard']} is not 1..total {total}")
        for name, service in (job.get("services") or {}).items():
            for port in service.get("ports") or []:
                if not str(port).startswith("127.0.0.1:"):
                    problems.append(f"services: jobs.{job_id}.services.{name} publishes {port} beyond the runner")
            if "--health-cmd" not in str(service.get("options", "")):
                problems.append(f"services: jobs.{job_id}.services.{name} has no health check")

    if runs_on_pull_requests:
        # GITHUB_TOKEN is the job's own (read-only) token; any other secret must not be
        # within reach of a pull request's code.
        for secret in sorted(set(re.findall(r"secrets\.(\w+)", json.dumps(doc))) - {"GITHUB_TOKEN"}):
            problems.append(f"secrets: `secrets.{secret}` in a workflow that runs on pull requests")

    if main:
        if "concurrency" not in doc:
            problems.append("concurrency: no concurrency group")
        final = jobs.get(FINAL_JOB)
        if final is None:
            problems.append(f"final-job: no `{FINAL_JOB}` job")
        else:
            needs = final.get("needs") or []
            needs = [needs] if isinstance(needs, str) else list(needs)
            missing = sorted(set(jobs) - {FINAL_JOB} - set(needs))
            if missing:
                problems.append(f"final-job: `{FINAL_JOB}` does not need {missing}")
            if "always()" not in str(final.get("if", "")):
                problems.append(f"final-job: `{FINAL_JOB}` has no `if: always()` (it would be skipped, not failed)")
            steps = json.dumps(final.get("steps") or [])
            if not ("needs" in steps and "success" in steps):
                problems.append(f"final-job: `{FINAL_JOB}` does not check that every needed job succeeded")
    return problems


def load(path: Path) -> tuple[str, Any]:
    text = path.read_text(encoding="utf-8")
    return text, yaml.safe_load(text)


def workflow_files() -> list[Path]:
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


# --- the workflows as they are ----------------------------------------------------------


def test_ci_workflow_exists() -> None:
    assert CI.is_file(), f"{CI} is missing"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda path: path.name)
def test_workflow_follows_the_rules(path: Path) -> None:
    text, doc = load(path)
    assert check_text(text) + check_workflow(doc, main=path == CI) == []


def test_setup_uv_installs_the_bootstrap_uv_version() -> None:
    match = re.search(r'^UV_VERSION="([^"]+)"', BOOTSTRAP.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, "UV_VERSION not found in scripts/bootstrap.sh"
    versions = {}
    for path in workflow_files():
        _, doc = load(path)
        for job_id, job in (doc.get("jobs") or {}).items():
            for step in job.get("steps") or []:
                if str(step.get("uses", "")).startswith("astral-sh/setup-uv@"):
                    versions[f"{path.name}:{job_id}"] = str((step.get("with") or {}).get("version"))
    assert versions, "no job installs uv with astral-sh/setup-uv"
    assert {where: v for where, v in versions.items() if v != match[1]} == {}


def _shard_script(job_id: str) -> str:
    _, doc = load(CI)
    for step in doc["jobs"][job_id]["steps"]:
        if "SHARD" in (step.get("env") or {}):
            return str(step["run"])
    raise AssertionError(f"jobs.{job_id} has no step with env SHARD")


@pytest.mark.parametrize(
    ("job_id", "folder", "exclude"), [("contracts", "contracts", "test_fuzz_"), ("specs", "specs", None)]
)
def test_shards_are_disjoint_and_cover_the_folder(
    tmp_path: Path, job_id: str, folder: str, exclude: str | None
) -> None:
    """Run the job's own shard script with a stand-in `uv` that records the pytest arguments."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    _, doc = load(CI)
    matrix = doc["jobs"][job_id]["strategy"]["matrix"]
    total = int(matrix["total"][0])
    record = tmp_path / "args"
    fake_uv = tmp_path / "bin" / "uv"
    fake_uv.parent.mkdir()
    fake_uv.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{record}"\n', encoding="utf-8")
    fake_uv.chmod(fake_uv.stat().st_mode | stat.S_IXUSR)
    script = _shard_script(job_id)
    shards: list[set[str]] = []
    for shard in matrix["shard"]:
        record.unlink(missing_ok=True)
        env = {**os.environ, "PATH": f"{fake_uv.parent}{os.pathsep}{os.environ['PATH']}"}
        env.update(SHARD=str(shard), TOTAL=str(total))
        subprocess.run([bash, "-eo", "pipefail", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True)
        shards.append({arg for arg in record.read_text(encoding="utf-8").split() if arg.endswith(".py")})
    expected = {
        f"{folder}/{path.name}"
        for path in (ROOT / folder).glob("test_*.py")
        if exclude is None or not path.name.startswith(exclude)
    }
    assert all(shards), f"an empty shard: {shards}"
    assert sum(len(files) for files in shards) == len(set().union(*shards)), f"shards overlap: {shards}"
    assert set().union(*shards) == expected


# --- zizmor ---------------------------------------------------------------------------


def _zizmor() -> str:
    beside = Path(sys.executable).with_name("zizmor")
    found = str(beside) if beside.exists() else shutil.which("zizmor")
    if found is None:
        pytest.fail("zizmor is not installed: it is in the dev dependency group (uv sync)")
    return found


def run_zizmor(target: Path) -> tuple[int, list[dict[str, Any]], str]:
    result = subprocess.run(
        [_zizmor(), "--offline", "--strict-collection", "--format", "json", "--color", "never", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return result.returncode, [finding for finding in findings if not finding.get("ignored")], result.stderr


def test_zizmor_finds_nothing() -> None:
    code, findings, stderr = run_zizmor(WORKFLOWS)
    summary = [f"{finding['ident']}: {finding['desc']}" for finding in findings]
    assert (code, summary) == (0, []), stderr


BAD_WORKFLOW = """\
name: bad
on:
  pull_request_target:
  push:
    branches: [develop]
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - uses: actions/upload-artifact@ea165f8
      - run: echo "${{ github.event.pull_request.title }}" ${{ secrets.DEPLOY_KEY }}
"""


def test_zizmor_reports_a_bad_workflow_in_the_same_folder(tmp_path: Path) -> None:
    """The same zizmor run fails, naming only the bad file, when a bad workflow sits beside ours."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    for path in workflow_files():
        shutil.copy(path, folder / path.name)
    (folder / "bad.yml").write_text(BAD_WORKFLOW, encoding="utf-8")
    code, findings, stderr = run_zizmor(folder)
    assert code != 0, stderr
    idents = {finding["ident"] for finding in findings}
    assert {"unpinned-uses", "dangerous-triggers", "artipacked", "template-injection"} <= idents
    assert all("bad.yml" in json.dumps(finding["locations"]) for finding in findings)


def test_zizmor_rejects_a_workflow_that_is_not_valid(tmp_path: Path) -> None:
    """--strict-collection: a misspelt key is an error, not a file silently left out."""
    folder = tmp_path / ".github" / "workflows"
    folder.mkdir(parents=True)
    (folder / "typo.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  x:\n    runs_on: ubuntu-24.04\n", encoding="utf-8"
    )
    code, _, stderr = run_zizmor(folder)
    assert code != 0, stderr


# --- every rule can fail -------------------------------------------------------------------


def test_the_checker_rejects_a_bad_workflow() -> None:
    problems = check_text(BAD_WORKFLOW) + check_workflow(yaml.safe_load(BAD_WORKFLOW), main=True)
    rules = {problem.split(":", 1)[0] for problem in problems}
    assert rules == {
        "version-comment",
        "unpinned-uses",
        "triggers",
        "permissions",
        "job-permissions",
        "timeout",
        "checkout",
        "secrets",
        "concurrency",
        "final-job",
    }, problems
    assert any("pull_request_target" in problem for problem in problems)
    assert any("`push` does not include main" in problem for problem in problems)


def test_the_version_comment_rule() -> None:
    good = "      - uses: actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8 # v5.0.0\n      - uses: ./local\n"
    assert check_text(good) == []
    assert check_text(good.replace(" # v5.0.0", "")) != []
    assert check_text(good.replace("# v5.0.0", "# main")) != []


def _ci() -> dict[Any, Any]:
    _, doc = load(CI)
    assert isinstance(doc, dict)
    return doc


def _first_step(doc: dict[Any, Any], prefix: str) -> dict[str, Any]:
    for job in doc["jobs"].values():
        for step in job.get("steps") or []:
            if str(step.get("uses", "")).startswith(prefix):
                return step  # type: ignore[no-any-return]
    raise AssertionError(f"no step uses {prefix}")


def _job_with(doc: dict[Any, Any], key: str) -> dict[str, Any]:
    for job_id, job in doc["jobs"].items():
        if job_id != FINAL_JOB and key in job:
            return job  # type: ignore[no-any-return]
    raise AssertionError(f"no job has {key}")


def _set(mapping: dict[Any, Any], key: Any, value: Any) -> None:
    mapping[key] = value


def _matrix_job(doc: dict[Any, Any]) -> dict[str, Any]:
    for job in doc["jobs"].values():
        if "shard" in ((job.get("strategy") or {}).get("matrix") or {}):
            return job  # type: ignore[no-any-return]
    raise AssertionError("no sharded job")


def _service(doc: dict[Any, Any]) -> dict[str, Any]:
    return next(iter(_job_with(doc, "services")["services"].values()))  # type: ignore[no-any-return]


def _add_job(doc: dict[Any, Any]) -> None:
    doc["jobs"]["extra"] = {"runs-on": "ubuntu-24.04", "timeout-minutes": 5, "permissions": {}, "steps": []}


MUTATIONS: dict[str, tuple[str, Callable[[dict[Any, Any]], None]]] = {
    "tag instead of SHA": (
        "unpinned-uses",
        lambda d: _set(_first_step(d, "actions/checkout@"), "uses", "actions/checkout@v5"),
    ),
    "short SHA": (
        "unpinned-uses",
        lambda d: _set(_first_step(d, "actions/upload-artifact@"), "uses", "actions/upload-artifact@ea165f8"),
    ),
    "branch ref": (
        "unpinned-uses",
        lambda d: _set(_first_step(d, "astral-sh/setup-uv@"), "uses", "astral-sh/setup-uv@main"),
    ),
    "pull_request_target": ("triggers", lambda d: _set(_on(d), "pull_request_target", None)),
    "no pull_request": ("triggers", lambda d: _on(d).pop("pull_request")),
    "no push": ("triggers", lambda d: _on(d).pop("push")),
    "push to other branches": ("triggers", lambda d: _set(_on(d), "push", {"branches": ["release"]})),
    "push ignores main": ("triggers", lambda d: _set(_on(d), "push", {"branches-ignore": ["main"]})),
    "no top-level permissions": ("permissions", lambda d: d.pop("permissions")),
    "write-all": ("permissions", lambda d: _set(d, "permissions", "write-all")),
    "contents: write": ("permissions", lambda d: _set(d, "permissions", {"contents": "write"})),
    "job without permissions": ("job-permissions", lambda d: d["jobs"]["lint"].pop("permissions")),
    "job writes on PRs": (
        "job-permissions",
        lambda d: _set(d["jobs"]["lint"], "permissions", {"pull-requests": "write"}),
    ),
    "no timeout": ("timeout", lambda d: d["jobs"]["lint"].pop("timeout-minutes")),
    "persist credentials": ("checkout", lambda d: _first_step(d, "actions/checkout@").pop("with")),
    "secret on PRs": ("secrets", lambda d: _set(d["jobs"]["lint"], "env", {"TOKEN": "${{ secrets.NPM_TOKEN }}"})),
    "secrets inherit": ("secrets", lambda d: _set(d["jobs"]["lint"], "secrets", "inherit")),
    "no concurrency": ("concurrency", lambda d: d.pop("concurrency")),
    "no final job": ("final-job", lambda d: d["jobs"].pop(FINAL_JOB)),
    "final job misses a job": ("final-job", lambda d: d["jobs"][FINAL_JOB]["needs"].pop()),
    "a new job not needed": ("final-job", _add_job),
    "final job without always()": ("final-job", lambda d: d["jobs"][FINAL_JOB].pop("if")),
    "final job checks nothing": ("final-job", lambda d: _set(d["jobs"][FINAL_JOB], "steps", [{"run": "true"}])),
    "shard missing": ("shards", lambda d: _matrix_job(d)["strategy"]["matrix"]["shard"].pop()),
    "total too small": ("shards", lambda d: _set(_matrix_job(d)["strategy"]["matrix"], "total", [1])),
    "service on all interfaces": ("services", lambda d: _set(_service(d), "ports", ["5432:5432"])),
    "service without health check": ("services", lambda d: _service(d).pop("options")),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_each_rule_fails_on_a_workflow_broken_that_way(name: str) -> None:
    rule, mutate = MUTATIONS[name]
    doc = _ci()
    assert check_workflow(doc, main=True) == []
    broken = copy.deepcopy(doc)
    mutate(broken)
    problems = check_workflow(broken, main=True)
    assert [problem for problem in problems if problem.startswith(f"{rule}:")], problems
