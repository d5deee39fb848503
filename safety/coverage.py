"""What a run covered, said plainly: per contract section and for specs, what ran and what was skipped, and why.

Fed every test report (an xdist worker's too, on the controller), it keeps one outcome per
test. The summary groups the skips by the category `safety.skips.skip_for_setup` put in their
message, names what each category lacked, and ends with one verdict line: STRICT (the run
fails for skips for lack of setup, under --e2e-strict), PARTIAL (mutating tests were skipped
on a target they could have run on) or COMPLETE.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pytest

from safety.skips import UNCATEGORISED, SkipCategory, parse, skip_message
from safety.summary import MUTATING, TAG

#: contracts/test_<module>.py -> its contract section (contracts/README.md).
CONTRACT_SECTIONS: dict[str, str] = {
    "conventions": "1 conventions",
    "auth": "2 auth",
    "health": "3 health",
    "fixtures_endpoint": "4 fixtures",
    "next_actions": "5 next actions",
    "execute": "6 execute",
    "idempotency": "6 execute",
    "execute_ratelimit": "6 execute",
    "ops_events": "7 ops events",
    "cron": "8 cron",
}
FUZZ = "fuzz"
SPECS = "specs"
OTHER_CONTRACTS = "contracts (other)"
#: The order of the table's rows.
ROW_ORDER = (*dict.fromkeys(CONTRACT_SECTIONS.values()), FUZZ, OTHER_CONTRACTS, SPECS)
#: Distinct reasons shown per category; the rest are counted.
REASONS_SHOWN = 3


def section_of(nodeid: str) -> str | None:
    """The summary row of a test (`contracts/test_auth.py::...` -> `2 auth`); None outside the suite."""
    parts = nodeid.split("::", 1)[0].split("/")
    if parts[0] == SPECS and len(parts) > 1:
        return SPECS
    if parts[0] != "contracts" or len(parts) != 2:
        return None
    module = parts[1].removeprefix("test_").removesuffix(".py")
    if module.startswith("fuzz"):
        return FUZZ
    return CONTRACT_SECTIONS.get(module, OTHER_CONTRACTS)


@dataclass
class _Test:
    outcome: str = "passed"  # passed | failed | skipped
    category: SkipCategory | None = None
    reason: str = ""
    mutating: bool = False


@dataclass
class Verdict:
    """The end of the summary: what the run lacked and whether it fails for it."""

    #: Tests skipped for lack of setup, per category label.
    lacking: Counter[str]
    mutating_skipped: int
    strict_fails: bool
    partial: bool


@dataclass
class Coverage:
    tests: dict[str, _Test] = field(default_factory=dict)

    def record(self, report: pytest.TestReport) -> None:
        # schemathesis reports one test per operation under one node id; its head line names it.
        test = self.tests.setdefault(f"{report.nodeid}\x00{report.head_line or ''}", _Test())
        if any(name == TAG and value == MUTATING for name, value in report.user_properties):
            test.mutating = True
        message = skip_message(report)
        if message is not None:
            test.outcome = "skipped"
            test.category, test.reason = parse(message)
        elif report.failed and test.outcome != "skipped":
            test.outcome = "failed"

    # ------------------------------------------------------------------ figures

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(section, ran, failed, skipped) for every section that had tests, in contract order."""
        counts: dict[str, Counter[str]] = {}
        for key, test in self.tests.items():
            section = section_of(key.split("\x00", 1)[0])
            if section is not None:
                counts.setdefault(section, Counter())[test.outcome] += 1
        return [
            (name, c["passed"] + c["failed"], c["failed"], c["skipped"])
            for name in ROW_ORDER
            if (c := counts.get(name)) is not None
        ]

    def skipped_by_category(self) -> dict[str, Counter[str]]:
        """Category label -> reason -> number of tests; categories in declaration order, `other` last."""
        found: dict[str, Counter[str]] = {}
        for test in self.tests.values():
            if test.outcome == "skipped":
                label = test.category.value if test.category is not None else UNCATEGORISED
                found.setdefault(label, Counter())[test.reason] += 1
        order = [category.value for category in SkipCategory] + [UNCATEGORISED]
        return {label: found[label] for label in order if label in found}

    def verdict(self, *, strict: bool, target_is_prod: bool) -> Verdict:
        lacking: Counter[str] = Counter()
        mutating_skipped = 0
        for test in self.tests.values():
            if test.outcome != "skipped":
                continue
            if test.category is not None:
                lacking[test.category.value] += 1
            if test.mutating:
                mutating_skipped += 1
        order = [category.value for category in SkipCategory]
        return Verdict(
            lacking=Counter({label: lacking[label] for label in order if label in lacking}),
            mutating_skipped=mutating_skipped,
            strict_fails=strict and bool(lacking),
            partial=mutating_skipped > 0 and not target_is_prod,
        )

    # ------------------------------------------------------------------ text

    def lines(self, verdict: Verdict, target: str) -> list[str]:
        lines: list[str] = []
        rows = self.rows()
        if rows:
            width = max(len(name) for name, *_ in rows)
            lines.append(f"{'section':<{width}}  {'ran':>5}  {'skipped':>7}")
            for name, ran, failed, skipped in rows:
                failures = f"  ({failed} failed)" if failed else ""
                lines.append(f"{name:<{width}}  {ran:>5}  {skipped:>7}{failures}")
        for label, reasons in self.skipped_by_category().items():
            total = sum(reasons.values())
            lines.append(f"skipped, {label}: {total} test(s)")
            for reason, count in reasons.most_common(REASONS_SHOWN):
                lines.append(f"  {count} x {reason}")
            if len(reasons) > REASONS_SHOWN:
                rest = sum(count for _, count in reasons.most_common()[REASONS_SHOWN:])
                lines.append(f"  {rest} more, for {len(reasons) - REASONS_SHOWN} other reason(s) (-rs lists each)")
        lines.append(verdict_line(verdict, target))
        return lines


def lacking_text(lacking: Counter[str]) -> str:
    return ", ".join(f"{label} ({count})" for label, count in lacking.items())


def verdict_line(verdict: Verdict, target: str) -> str:
    """The summary's last line: the one a reader (or a CI log) looks at."""
    if verdict.strict_fails:
        return (
            f"e2e STRICT: the run FAILS (--e2e-strict / E2E_STRICT): {sum(verdict.lacking.values())} test(s) "
            f"were skipped for lack of setup: {lacking_text(verdict.lacking)}. Provide what the reasons "
            "above name, or drop the strict flag."
        )
    if verdict.partial:
        lacked = f" (for lack of: {lacking_text(verdict.lacking)})" if verdict.lacking else ""
        return (
            f"e2e PARTIAL: {verdict.mutating_skipped} mutating test(s) were skipped on {target}{lacked}; "
            "this run did not test what they check."
        )
    if verdict.lacking:
        return f"e2e: skipped for lack of setup: {lacking_text(verdict.lacking)}."
    return "e2e COMPLETE: no test was skipped for lack of setup."
