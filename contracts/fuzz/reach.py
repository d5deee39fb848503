"""What a fuzz run reached, and whether it reached enough to mean anything.

A run whose requests mostly bounce off auth (401: a dead token, say after a login that
ended the user's earlier sessions, free in v1.1) or off the rate limit (429) checks little of
the contract, yet every one of those answers is valid. Issue 12 saw a run lose about 760 of
its answers to 401 and stay green. `reach_problems` turns that into a failure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

EXECUTE_LABEL = "POST /api/next-actions/{id}/execute"
#: Answers that did not get past auth or the rate limit (section 6 steps 1-2).
BOUNCED = (401, 429)
#: Execute answers from step 6: the action ran (or its replay).
RAN = (200, 500)
#: Its 401 is `invalid_credentials`, an answer about the body, not a request stopped at auth.
LOGIN_LABEL = "POST /api/auth/login"
#: Fewer answers than this say too little for a share to mean anything.
MIN_ANSWERS = 20
#: Counted apart and not judged: execute cases a stateful run sent without credentials on
#: purpose, past E2E_FUZZ_SHARED_EXECUTES (the shared account's budget is the run's).
UNJUDGED_SUFFIX = " (sent without credentials: over E2E_FUZZ_SHARED_EXECUTES)"


def past_auth(counts: Mapping[int, int]) -> int:
    return sum(n for status, n in counts.items() if status not in BOUNCED)


def ran(counts: Mapping[int, int]) -> int:
    return sum(counts.get(status, 0) for status in RAN)


def bounced_share(counts: Mapping[int, int]) -> float:
    total = sum(counts.values())
    return 0.0 if not total else sum(counts.get(status, 0) for status in BOUNCED) / total


def describe(counts: Mapping[int, int]) -> str:
    return ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "none"


def operation_lines(by_operation: Mapping[str, Mapping[int, int]]) -> list[str]:
    """One line per operation: its answers by status; for execute, how far its cases got."""
    lines = []
    for label, counts in sorted(by_operation.items()):
        line = f"fuzz:   {label}: {describe(counts)}"
        if label == EXECUTE_LABEL:
            total = sum(counts.values())
            line += (
                f" ({past_auth(counts)} of {total} got past auth and the rate limit, {ran(counts)} reached the action)"
            )
        lines.append(line)
    return lines


def reach_problems(by_operation: Mapping[str, Mapping[int, int]]) -> list[str]:
    """Why these answers reached too little (empty when they reached enough).

    Fails when most of the answers, in all or of one operation (with at least MIN_ANSWERS),
    were 401 or 429.
    """
    problems = []
    total: Counter[int] = Counter()
    judged = {
        label: _judged(label, counts) for label, counts in by_operation.items() if not label.endswith(UNJUDGED_SUFFIX)
    }
    for counts in judged.values():
        total.update(counts)
    scopes = [("the run", total), *sorted(judged.items())]
    for where, counts in scopes:
        n = sum(counts.values())
        if n < MIN_ANSWERS or bounced_share(counts) <= 0.5:
            continue
        problems.append(
            f"most answers of {where} were 401 or 429 ({counts.get(401, 0)} answered 401, "
            f"{counts.get(429, 0)} answered 429, of {n}): the fuzzer's cases did not get past auth "
            "or the rate limit, so they checked little of the contract. A 401 flood means its "
            "token died (does a login end the user's earlier sessions? does the target reject "
            "its token?); a 429 flood that the user rotation overran the rate limit."
        )
    return problems


def _judged(label: str, counts: Mapping[int, int]) -> Counter[int]:
    """The answers as `reach_problems` weighs them: a login's 401 (`invalid_credentials`) is
    counted under 0, "an answer that got through", not as a request stopped at auth."""
    out = Counter(counts)
    if label == LOGIN_LABEL and 401 in out:
        out[0] += out.pop(401)
    return out


def delta(after: Mapping[str, Mapping[int, int]], before: Mapping[str, Mapping[int, int]]) -> dict[str, Counter[int]]:
    """The answers counted between two snapshots of `by_operation`."""
    out: dict[str, Counter[int]] = {}
    for label, counts in after.items():
        diff = Counter(counts)
        diff.subtract(before.get(label, {}))
        kept = Counter({status: n for status, n in diff.items() if n > 0})
        if kept:
            out[label] = kept
    return out
