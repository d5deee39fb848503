"""Collection rules of the suite (contracts/ and specs/): safety marks and run order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Fixtures that create data on the target (POST /api/e2e/fixtures, logins): a test using one
#: is mutating whatever its own marks say, so the safety guard keeps it off production.
DATA_FIXTURES = frozenset(
    {
        "fixtures_enabled",
        "fresh",
        "reader",
        "isolated",
        "second_user",
        "make_user",
        "user_or_shared",
        "account",
        "sign_in",
    }
)
#: Fixtures that act as the shared E2E_EMAIL account where the target has no fixtures endpoint.
SHARED_USERS = frozenset({"fresh", "reader", "user_or_shared", "account", "sign_in", "shared_account_user", "fuzz"})
#: Fixtures that only the fixtures endpoint can provide (no E2E_EMAIL fallback; `second_user`
#: has one, the E2E_EMAIL_2 account).
FIXTURES_ONLY = frozenset({"isolated", "history"})


def within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def mark_items(items: Sequence[pytest.Item], roots: Sequence[Path]) -> None:
    """Mark data-creating tests `mutating` (a safety net) and fixtures-only ones `needs_fixtures`."""
    for item in items:
        if not within(Path(item.path), roots):
            continue
        used = set(getattr(item, "fixturenames", ()))
        if used & DATA_FIXTURES and item.get_closest_marker("mutating") is None:
            item.add_marker(pytest.mark.mutating)
        direct = set(getattr(getattr(item, "_fixtureinfo", None), "argnames", ()))
        if (used & FIXTURES_ONLY or "make_user" in direct) and item.get_closest_marker("needs_fixtures") is None:
            item.add_marker(pytest.mark.needs_fixtures)


def shares_one_budget(env: Mapping[str, str]) -> bool:
    """Whether tests may share one rate-limit budget: only the E2E_EMAIL account is shared.

    With E2E_EMAIL unset every test that executes has its own fixtures user (or is skipped).
    With it set, the target may lack the fixtures endpoint (known only when the first test
    asks), so the run keeps the cautious order.
    """
    return bool(env.get("E2E_EMAIL") and env.get("E2E_PASSWORD"))


@dataclass(frozen=True)
class SharedItems:
    """A test's `shared_items(count, whole_lead=False, spends=0, unexecuted=False)` marker, read
    once for everyone."""

    count: int | None
    whole_lead: bool = False
    spends: int = 0
    unexecuted: bool = False

    @classmethod
    def of(cls, node: pytest.Item) -> SharedItems | None:
        marker = node.get_closest_marker("shared_items")
        if marker is None:
            return None
        count = int(marker.args[0]) if marker.args else None
        return cls(
            count,
            bool(marker.kwargs.get("whole_lead", False)),
            int(marker.kwargs.get("spends", 0)),
            bool(marker.kwargs.get("unexecuted", False)),
        )


@dataclass(frozen=True)
class Turn:
    """How a test uses the shared account for its length (testkit/items.py `take_turn`)."""

    exclusive: bool  # alone on the account
    logs_in: bool  # it logs the account in itself (`shared_login`): the token is renewed after
    whole_budget: bool  # it spends the whole rate-limit budget (`rate_limit_budget`)

    @classmethod
    def of(cls, node: pytest.Item, fixturenames: Iterable[str]) -> Turn | None:
        """The test's turn, or None when it does not act as the account.

        A `rate_limit_budget` test acts as it even when it asks for the account only while it
        runs (`getfixturevalue`); it has the account alone, for another test's request inside
        its window would meet a 429.
        """
        logs_in = node.get_closest_marker("shared_login") is not None
        whole_budget = node.get_closest_marker("rate_limit_budget") is not None
        if not (SHARED_USERS & set(fixturenames) or whole_budget):
            return None
        return cls(exclusive=logs_in or whole_budget, logs_in=logs_in, whole_budget=whole_budget)


def shared_order(item: pytest.Item) -> tuple[int, int, int]:
    """Where a test goes in a run on the shared account (its `shared_items` marker), as a sort key.

    A target without fixtures may make no more queued items than `run_next_actions` must (one),
    and then only when the lead has none left: the seeded items are all there is of "several at
    once". So the tests that need several run first: those that give them all back, then those
    that use fewer of them up (the bigger need first among equals), so that as many as can run
    do; the tests that use items up one at a time (or may close every queued item: whole_lead)
    run last. Before all of them, a test that needs an item never executed (`unexecuted`): any
    other test may run an action on the seeded items.
    """
    wanted = SharedItems.of(item)
    if wanted is None:
        return 1, 0, 0
    if wanted.unexecuted:
        return -1, 0, 0
    count = 1 if wanted.count is None else wanted.count
    if count >= 2:
        return 0, wanted.spends, -count
    return (2 if wanted.spends or wanted.whole_lead else 1), 0, 0


#: A `slow` test that waits at least this long gets a worker of its own in the default run.
OWN_WORKER_SECONDS = 20.0
#: What a `slow` marker without `seconds=` is taken to wait: a rate-limit window.
SLOW_SECONDS = 60.0


def wait_seconds(item: pytest.Item) -> float:
    """About how long a test waits: its `slow(seconds=N)` marker's N, SLOW_SECONDS for a bare `slow`, else 0."""
    marker = item.get_closest_marker("slow")
    if marker is None:
        return 0.0
    return float(marker.kwargs.get("seconds", SLOW_SECONDS))


def is_waiting(item: pytest.Item) -> bool:
    """A test that mostly waits (out a Retry-After, past a minute), by the server's Date, long
    enough to be worth a worker of its own (a `slow` test of a few seconds is not)."""
    return wait_seconds(item) >= OWN_WORKER_SECONDS


def _shared_budget_key(item: pytest.Item) -> tuple[bool, tuple[int, int, int]]:
    return item.get_closest_marker("rate_limit_budget") is not None, shared_order(item)


def order_items(items: list[pytest.Item], *, shared_budget: bool) -> None:
    """Sort in place (stably).

    Shared budget: tests that spend a whole rate-limit budget run last, so they cannot starve
    the others; before them, the shared account's items go first to the tests that need
    several at once, and last to the tests that use them up (`shared_order`). Own users:
    tests that wait long (`is_waiting`) run first, so their waits overlap the rest of the run
    instead of ending it: in the default run each then gets a worker of its own from the start
    (testkit/overlap.py); under a plain `-n N` they at least start early.
    """
    if shared_budget:
        items.sort(key=_shared_budget_key)
    else:
        # Short waits last: a worker that has finished its long wait takes them from the end of
        # the queue (work stealing takes the tail) while the others go on.
        items.sort(key=lambda item: 0 if is_waiting(item) else 2 if wait_seconds(item) else 1)
