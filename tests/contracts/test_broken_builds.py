"""The contract suite bites: each deliberately broken reference-app build fails the test owning its rule.

For every REFAPP_BROKEN build proven by a contract test (refapp/faults/, `proof` "contract" or
"slow"), start the reference app with that fault on a loopback port, run the owning test(s) in a
subprocess against it, and assert that one of them fails. "contract" faults are run with
`-m "not slow"`, so the fast tier is shown to catch them; "slow" ones may use slow tests. A
control run of the whole non-slow contract suite against the healthy build must pass, so a
failure is the fault's, not the suite's. Builds proven by specs are in
tests/specs/test_broken_ui_builds.py; "fuzz" builds are the fuzzer's to find (not run here).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from refapp.broken import FAULTS

from .brokenrun import run_suite, running

pytestmark = pytest.mark.slow

FAST = sorted(name for name, fault in FAULTS.items() if fault.proof == "contract")
SLOW = sorted(name for name, fault in FAULTS.items() if fault.proof == "slow")


def test_every_contract_owner_is_a_contract_test() -> None:
    for name in FAST + SLOW:
        for owner in FAULTS[name].owners:
            assert owner.startswith("contracts/test_") and "::" in owner, (
                f"broken build {name!r}: owner {owner!r} must be a node id under contracts/"
            )


def test_the_suite_passes_against_the_healthy_reference_app(tmp_path: Path) -> None:
    args = ["contracts", "-m", "not slow", "--ignore=contracts/fuzz", "--ignore-glob=contracts/test_fuzz*"]
    with running(None) as app:
        run = run_suite(app, args, tmp_path)
    assert run.code == 0 and not run.failed, (
        f"the non-slow contract suite must pass against the healthy reference app; exit {run.code}, "
        f"failed {list(run.failed)}:\n{run.output}"
    )


def _prove(name: str, args: list[str], tmp_path: Path) -> None:
    fault = FAULTS[name]
    with running(name) as app:
        run = run_suite(app, [*fault.owners, *args], tmp_path)
    assert run.code == 1, (
        f"REFAPP_BROKEN={name} ({fault.breaks}): the owning tests must fail (exit 1); "
        f"got exit {run.code}:\n{run.output}"
    )
    assert run.caught_by(fault.owners), (
        f"REFAPP_BROKEN={name}: expected a failure of {fault.owners}; the failing tests were {list(run.failed)}:\n"
        f"{run.output}"
    )


@pytest.mark.parametrize("name", FAST)
def test_fast_tier_catches_broken_build(name: str, tmp_path: Path) -> None:
    _prove(name, ["-m", "not slow"], tmp_path)


@pytest.mark.parametrize("name", SLOW)
def test_slow_test_catches_broken_build(name: str, tmp_path: Path) -> None:
    _prove(name, [], tmp_path)
