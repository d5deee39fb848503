"""The broken-build switch: every deliberately broken build, gathered from refapp/faults/.

`REFAPP_BROKEN=<name>` (with `REFAPP_ALLOW_BROKEN=1`) starts the app with exactly one fault,
so the suite can prove that the test owning the broken rule fails. The catalogue of MUST
sentences these faults break is in contracts/README.md.
"""

from __future__ import annotations

from refapp.faults import conventions_auth, execute_budget, execute_run, ui
from refapp.faults.fault import Fault, Proof

__all__ = ["BROKEN_BUILDS", "FAULTS", "Fault", "Proof"]


def _gather(*parts: dict[str, Fault]) -> dict[str, Fault]:
    merged: dict[str, Fault] = {}
    for part in parts:
        for name, fault in part.items():
            if name in merged:
                raise RuntimeError(f"broken build {name!r} is defined twice in refapp/faults/")
            merged[name] = fault
    return merged


FAULTS: dict[str, Fault] = _gather(conventions_auth.FAULTS, execute_budget.FAULTS, execute_run.FAULTS, ui.FAULTS)

# Name -> what it breaks: the switch's valid values and their one-line descriptions.
BROKEN_BUILDS: dict[str, str] = {name: fault.breaks for name, fault in FAULTS.items()}
