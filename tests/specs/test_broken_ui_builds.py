"""The browser specs bite: each broken build of section 9 (proof "spec") fails the spec owning its rule.

The spec twin of tests/contracts/test_broken_builds.py: for every REFAPP_BROKEN build whose
`proof` is "spec" (refapp/faults/), start the reference app with it on loopback, run the owning
spec(s) against it in a subprocess and assert that one fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from refapp.broken import FAULTS
from tests.contracts.brokenrun import run_suite, running

pytestmark = pytest.mark.slow

SPEC = sorted(name for name, fault in FAULTS.items() if fault.proof == "spec")


def test_every_spec_owner_is_a_spec() -> None:
    for name in SPEC:
        for owner in FAULTS[name].owners:
            assert owner.startswith("specs/test_") and "::" in owner, (
                f"broken build {name!r}: owner {owner!r} must be a node id under specs/"
            )


@pytest.mark.parametrize("name", SPEC)
def test_spec_catches_broken_build(name: str, tmp_path: Path) -> None:
    fault = FAULTS[name]
    with running(name) as app:
        run = run_suite(app, fault.owners, tmp_path)
    assert run.code == 1, (
        f"REFAPP_BROKEN={name} ({fault.breaks}): the owning specs must fail; got exit {run.code}:\n{run.output}"
    )
    assert run.caught_by(fault.owners), (
        f"REFAPP_BROKEN={name}: expected a failure of {fault.owners}; the failing specs were {list(run.failed)}:\n"
        f"{run.output}"
    )
