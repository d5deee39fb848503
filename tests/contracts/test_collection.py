"""The contract suite's own collection rules: safety marks and the whole-budget test running last."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import cache
from pathlib import Path

from tests.contracts.markdump import PREFIX, WAITING

ROOT = Path(__file__).resolve().parents[2]


@cache
def _collected(shared_account: bool = False) -> tuple[tuple[str, frozenset[str]], ...]:
    """Every hand-written contract test, in run order, with its marks (one collection per run).

    `shared_account`: with E2E_EMAIL / E2E_PASSWORD set, as where the target has no fixtures endpoint.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    if shared_account:
        env.update(E2E_EMAIL="qa@example.com", E2E_PASSWORD="not-a-real-password")
    command = [
        sys.executable, "-m", "pytest", "contracts", "--collect-only", "-q", "-p", "no:randomly",
        "-p", "tests.contracts.markdump", "--ignore=contracts/fuzz", "--ignore-glob=contracts/test_fuzz*",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"collection failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}"
    rows = []
    for line in done.stdout.splitlines():
        if line.startswith(PREFIX):
            node, marks = line[len(PREFIX) :].split("\t")
            rows.append((node, frozenset(filter(None, marks.split(",")))))
    assert rows, f"nothing collected:\n{done.stdout}"
    return tuple(rows)


def test_every_test_is_mutating_or_smoke() -> None:
    """A test that is neither could write to production unguarded, or be left out of the smoke run."""
    stray = [node for node, marks in _collected() if not marks & {"mutating", "smoke"}]
    assert stray == [], f"every contract test must be marked mutating or smoke; these are neither: {stray}"


def test_smoke_tests_are_read_only() -> None:
    smoke = [node for node, marks in _collected() if "smoke" in marks]
    assert smoke, "the suite has smoke tests"
    both = [node for node, marks in _collected() if {"smoke", "mutating"} <= marks]
    assert both == [], f"a smoke test runs on production and must not be mutating: {both}"
    posts = [node for node, marks in _collected() if "smoke" in marks and "POST" in node]
    assert posts == [], f"a smoke test must not POST (the network guard blocks it on production): {posts}"
    # The one kind of write a smoke test may send: a credential-less probe it declares.
    probes = [node for node, marks in _collected() if "unauthenticated_probe" in marks]
    assert probes, "the execute route's auth wall is part of the smoke run"
    assert all("smoke" in marks for node, marks in _collected() if node in probes), probes


def test_whole_budget_tests_run_last_when_tests_share_the_e2e_email_account() -> None:
    order = [node for node, _ in _collected(shared_account=True)]
    budget = [node for node, marks in _collected(shared_account=True) if "rate_limit_budget" in marks]
    assert budget, "the suite has a rate_limit_budget test"
    assert order[-len(budget) :] == budget, f"rate_limit_budget tests must run last; the run ends {order[-3:]}"


def test_waiting_tests_run_first_when_every_test_has_its_own_user() -> None:
    """So that, under pytest-xdist, a wait for Retry-After overlaps the rest of the run; short
    waits go last, where a worker done with its long wait takes them from the queue's end."""
    order = [node for node, _ in _collected()]
    waiting = [node for node, marks in _collected() if WAITING in marks]
    short = [node for node, marks in _collected() if "slow" in marks and WAITING not in marks]
    assert waiting, "the suite has a test that waits (out a Retry-After)"
    assert order[: len(waiting)] == waiting, f"waiting tests must run first; the run starts {order[:3]}"
    assert not short or order[-len(short) :] == short, f"short slow tests run last; the run ends {order[-3:]}"


def test_tests_needing_their_own_user_are_marked_needs_fixtures() -> None:
    marked = {node for node, marks in _collected() if "needs_fixtures" in marks}
    for needle in ("test_keys_are_per_user", "test_users_do_not_share_budgets", "test_a_500_is_replayed_too"):
        assert any(needle in node for node in marked), f"{needle} needs fixtures and must be marked so"


def test_on_the_shared_account_tests_needing_several_items_run_first_and_spenders_late() -> None:
    """A target without fixtures may make no more queued items than run_next_actions must (one)."""
    rows = _collected(shared_account=True)
    order = [node for node, _ in rows]
    several = [
        n
        for n in order
        if n.split("[")[0].endswith(
            ("test_key_reused_differently_is_422", "test_executions_list_holds_only_this_items_runs")
        )
    ]
    spenders = [
        n for n in order if "test_snooze_1d_snoozes_for_24_hours" in n or "test_mark_done_makes_the_item_done" in n
    ]
    assert several and spenders
    assert max(order.index(n) for n in several) < min(order.index(n) for n in spenders), order


def test_each_fuzz_test_has_its_operation_in_its_node_id() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "E2E_"))}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "contracts/test_fuzz_routes.py",
        "--collect-only",
        "-q",
        "-p",
        "no:randomly",
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    nodes = [line for line in done.stdout.splitlines() if line.startswith("contracts/")]
    assert "contracts/test_fuzz_routes.py::test_fuzz_route[GET /api/health]" in nodes, done.stdout
    assert len(set(nodes)) == len(nodes) > 1, f"fuzz node ids must be distinct: {nodes}"
