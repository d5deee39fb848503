"""CI runs contracts, fuzz and specs against both readings of the reference app (REFAPP_READINGS).

`other` takes the other allowed choice at every free point of the contract (refapp/README.md):
a job that dropped it would let a test that depends on a free point slip back in.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from refapp.readings import READINGS

CI = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "ci.yml"
JOBS = ("contracts", "fuzz", "specs")
FROM_MATRIX = "${{ matrix.reading }}"


def reading_problems(doc: dict[str, Any]) -> list[str]:
    problems = []
    for job_id in JOBS:
        job = doc["jobs"].get(job_id)
        if job is None:
            problems.append(f"readings: no `{job_id}` job")
            continue
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        if list(matrix.get("reading") or []) != list(READINGS):
            problems.append(f"readings: jobs.{job_id} matrix `reading` is not {list(READINGS)}")
        env_sources = [job.get("env") or {}] + [
            step.get("env") or {} for step in job.get("steps") or [] if "pytest" in str(step.get("run", ""))
        ]
        if not any(env.get("REFAPP_READINGS") == FROM_MATRIX for env in env_sources):
            problems.append(f"readings: jobs.{job_id} does not set REFAPP_READINGS: {FROM_MATRIX} for pytest")
    return problems


def _ci() -> dict[str, Any]:
    doc = yaml.safe_load(CI.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def test_ci_runs_contracts_fuzz_and_specs_against_both_readings() -> None:
    assert reading_problems(_ci()) == []


def _pytest_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(step for step in job["steps"] if "SHARD" in (step.get("env") or {}))


MUTATIONS: dict[str, Callable[[dict[str, Any]], None]] = {
    "contracts without the other reading": lambda d: d["jobs"]["contracts"]["strategy"]["matrix"]["reading"].pop(),
    "fuzz without a reading matrix": lambda d: d["jobs"]["fuzz"].pop("strategy"),
    "fuzz ignores the matrix": lambda d: d["jobs"]["fuzz"]["env"].pop("REFAPP_READINGS"),
    "specs ignores the matrix": lambda d: _pytest_step(d["jobs"]["specs"])["env"].pop("REFAPP_READINGS"),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_the_rule_fails_on_a_workflow_broken_that_way(name: str) -> None:
    broken = copy.deepcopy(_ci())
    MUTATIONS[name](broken)
    assert reading_problems(broken) != []
