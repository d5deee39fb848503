"""Count what the guard did, so a green run against production is not mistaken for a tested one."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from safety.decision import GuardDecision

TAG = "e2e_safety"
MUTATING = "mutating"
GUARD_SKIPPED = "guard-skipped"
GUARD_ERRORED = "guard-errored"
BLOCKED = "network-blocked"
PROGRAM = "e2e_safety_program"  # a non-Python program a test started (user property name)


@dataclass
class GuardTally:
    """Tags reported by the tests (possibly from xdist workers, through user_properties)."""

    counts: Counter[str] = field(default_factory=Counter)
    blocked: list[str] = field(default_factory=list)
    mutating_outcomes: Counter[str] = field(default_factory=Counter)
    programs: list[str] = field(default_factory=list)

    def record(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            line = f"{report.nodeid} started {value}"
            if name == PROGRAM and line not in self.programs:
                self.programs.append(line)
        tags = {value for name, value in report.user_properties if name == TAG}
        if not tags:
            return
        # One count per test: its setup report for skips/errors, its call report otherwise.
        if GUARD_SKIPPED in tags and report.when == "setup":
            self.counts[GUARD_SKIPPED] += 1
        if GUARD_ERRORED in tags and report.when == "setup":
            self.counts[GUARD_ERRORED] += 1
        if BLOCKED in tags and report.nodeid not in self.blocked:
            self.blocked.append(report.nodeid)
        if MUTATING in tags and report.when == "call":
            self.mutating_outcomes[report.outcome] += 1
        elif MUTATING in tags and report.when == "setup" and not report.passed:
            # It never ran: a skip, or an error before its body (the guard's own, or a fixture's).
            self.mutating_outcomes["skipped" if report.skipped else "errored"] += 1

    def lines(self, decision: GuardDecision | None) -> list[str]:
        lines: list[str] = []
        target = f"{decision.target} ({decision.target_class})" if decision else "the target"
        rule = f" [classified by the {decision.rule} rule]" if decision else ""
        ran = self.mutating_outcomes["passed"] + self.mutating_outcomes["failed"]
        skipped = self.counts[GUARD_SKIPPED]
        if skipped:
            lines.append(
                f"{skipped} mutating test(s) SKIPPED by the production guard on {target}: "
                f"{decision.why if decision else ''}{rule} To run them there on purpose, set "
                "E2E_ALLOW_PROD_SCORE=1."
            )
            lines.append("This run did NOT test any state-changing behaviour of that target.")
        if self.counts[GUARD_ERRORED]:
            lines.append(
                f"{self.counts[GUARD_ERRORED]} mutating test(s) ERRORED because the target could "
                f"not be checked: {decision.reason if decision else ''}"
            )
        if ran:
            lines.append(f"{ran} mutating test(s) ran against {target}{rule}.")
        if decision is not None and decision.prod_override_active and ran:
            lines.append(
                f"!!! E2E_ALLOW_PROD_SCORE was set: those tests changed PRODUCTION data on {decision.host}. !!!"
            )
        if self.blocked:
            lines.append(
                f"{len(self.blocked)} test(s) FAILED because the network guard blocked a "
                "state-changing request to production (a missing @pytest.mark.mutating?):"
            )
            lines += [f"  {nodeid}" for nodeid in self.blocked]
        if self.programs and decision is not None and decision.target_class == "prod":
            lines.append(
                f"{len(self.programs)} program(s) that are not Python were started by tests against this "
                "production target; the network guard cannot see what they send (curl, wget, a browser "
                "started by hand):"
            )
            lines += [f"  {line}" for line in self.programs]
        if not lines:
            where = f" against {target}" if decision else ""
            lines.append(f"no mutating test ran{where}{rule}.")
        return lines


def outside_lines(blocks: list[str]) -> list[str]:
    """The blocks no test owns (session hooks, threads, collection): each one fails the run."""
    if not blocks:
        return []
    lines = [
        f"{len(blocks)} state-changing request(s) to production were BLOCKED OUTSIDE any test; "
        "the run fails (exit status 1) for them:"
    ]
    return lines + [f"  {block}" for block in blocks]
