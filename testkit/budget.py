"""The shared account's rate-limit budget, planned across the run's processes.

The execute route allows 20 requests per user in any 60 s, and every authenticated request to
it counts (section 6). The E2E_EMAIL account has one budget for the whole run, shared by every
pytest-xdist worker: each of its execute requests first reserves a slot here, so a test waits
its turn instead of meeting a 429 that another test caused.

The plan is a FileLock'ed JSON file of the times of the slots taken (local clock: it only
paces this machine's own requests) in the run's shared directory. At most PACE slots (the
contract's 20) in any WINDOW seconds: two more than the contract's 60, so that a request the
server sees up to 2 s later than it was planned still falls in the next window. (A request
that meets a 429 all the same waits out its Retry-After, and the plan with it.) A test that
must spend the whole budget itself (the `rate_limit_budget` tests) holds the plan (`hold`):
nobody else reserves while it runs, and its own requests take slots without waiting, so that
after it the plan knows the server's window as it is: full, until its oldest request leaves.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from filelock import FileLock

from testkit import waits

PACE = 20
WINDOW = 62.0
#: A reservation gives up (an error naming the plan) after waiting this long in all.
MAX_WAIT = 600.0
#: While a whole-budget test holds the plan, waiters look again this often.
POLL = 1.0


#: Who the slots reserved now are spent for, when not the running test itself (`spending_for`).
_SPENDER: ContextVar[str | None] = ContextVar("e2e_budget_spender", default=None)


def current_spender() -> str:
    """Whom the summary charges a reservation made now: `spending_for`'s name, else the test."""
    return _SPENDER.get() or waits.current_test()


@contextmanager
def spending_for(name: str) -> Iterator[None]:
    """Charge the reservations made inside to `name` (replenishing the queue, say), not the test."""
    token = _SPENDER.set(name)
    try:
        yield
    finally:
        _SPENDER.reset(token)


class BudgetWaitTooLong(RuntimeError):
    """A reservation waited MAX_WAIT seconds without a free slot."""


class BudgetPlanner:
    """Slots of the shared account's execute budget, for every process of one run."""

    def __init__(
        self,
        path: Path,
        *,
        pace: int = PACE,
        window: float = WINDOW,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.pace = pace
        self.window = window
        self.clock = clock
        self.sleep = sleep
        self._lock = FileLock(str(path) + ".lock")

    # ------------------------------------------------------------------ the file

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            data = {}
        data.setdefault("stamps", [])
        data.setdefault("blocked_until", 0.0)
        data.setdefault("holder", None)
        data.setdefault("reserved", 0)
        data.setdefault("waited", 0.0)
        data.setdefault("spent", {})
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(data))

    # ------------------------------------------------------------------ planning

    def wait_needed(self, data: dict[str, Any], now: float, count: int = 1, who: str | None = None) -> float:
        """Seconds until `count` slots are free for `who` under `data` (0: now). Pure.

        The holder of the plan (`hold`) never waits: it is spending the whole budget on purpose."""
        holder = data.get("holder")
        if holder:
            return 0.0 if holder == who else POLL
        stamps = sorted(t for t in data["stamps"] if t > now - self.window)
        blocked = max(0.0, float(data["blocked_until"]) - now)
        over = len(stamps) + count - self.pace
        free_at = 0.0 if over <= 0 else stamps[over - 1] + self.window - now
        return max(blocked, free_at, 0.0)

    def reserve(self, count: int = 1, why: str = "") -> float:
        """Take `count` slots, waiting until they are free; returns the seconds waited."""
        if count > self.pace:
            raise ValueError(f"cannot reserve {count} execute slots at once: the plan allows {self.pace} per window")
        waited = 0.0
        said = False
        while True:
            with self._lock:
                data = self._load()
                now = self.clock()
                spender = current_spender()
                wait = self.wait_needed(data, now, count, spender)
                if wait <= 0:
                    data["stamps"] = [t for t in data["stamps"] if t > now - self.window] + [now] * count
                    data["reserved"] += count
                    data["waited"] += waited
                    data["spent"][spender] = data["spent"].get(spender, 0) + count
                    self._save(data)
                    return waited
                holder = data.get("holder")
            if waited + wait > MAX_WAIT:
                raise BudgetWaitTooLong(
                    f"waited {waited:.0f} s for the shared account's execute budget ({self.path}) and would "
                    f"wait {wait:.0f} s more: is a whole-budget test stuck, or another run using the account?"
                )
            if not said:
                reason = (
                    f"{holder} is spending the shared account's whole rate-limit budget"
                    if holder
                    else f"the shared account's execute budget ({self.pace} per {self.window:.0f} s, "
                    "planned across workers) is taken"
                )
                said = waits.notice(wait if not holder else self.window, reason + (f" ({why})" if why else ""))
            self.sleep(wait)
            waited += wait

    def totals(self) -> tuple[int, float]:
        """(slots reserved, seconds waited for them) over the run so far, every process included."""
        with self._lock:
            data = self._load()
        return int(data["reserved"]), float(data["waited"])

    def spenders(self) -> list[tuple[str, int]]:
        """Who reserved slots over the run so far, the biggest spenders first."""
        with self._lock:
            data = self._load()
        return sorted(((str(k), int(v)) for k, v in data["spent"].items()), key=lambda kv: (-kv[1], kv[0]))

    def block_for(self, seconds: float) -> None:
        """Nobody reserves for `seconds` from now (after a 429's Retry-After, say)."""
        with self._lock:
            data = self._load()
            data["blocked_until"] = max(float(data["blocked_until"]), self.clock() + seconds)
            self._save(data)

    @contextmanager
    def hold(self, who: str) -> Iterator[None]:
        """Let `who` spend the whole budget: its reservations take slots without waiting (more
        than PACE in a window, up to the server's 429), everyone else's wait until it ends, and
        then until the window its requests filled has room again."""
        with self._lock:
            data = self._load()
            data["holder"] = who
            self._save(data)
        try:
            yield
        finally:
            with self._lock:
                data = self._load()
                data["holder"] = None
                self._save(data)
