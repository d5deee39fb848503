"""The shared E2E_EMAIL account as a resource the run's processes hand out.

Where the target has no POST /api/e2e/fixtures, every test acts as that one account (section 4,
last paragraph). Under pytest-xdist two tests run at once, so they must never act on the same
next action, nor end each other's session. `SharedAccount` keeps, in one FileLock'ed JSON file
in the run's shared directory (`run_dir`, keyed by pytest-xdist's testrunuid):

- **claims**: which queued items each running test holds. `claim(who, user, n)` hands a test
  `n` queued items of one lead that no other test holds (waiting while others hold them), and
  replenishes through the contract when the lead has too few: `run_next_actions` leaves the
  lead with a queued, unsnoozed item. That action may close every queued item of the lead
  (free, the other reading), so a replenish, and a test that runs it (`whole_lead`), holds the
  whole lead: it waits until no other test holds an item there, and new claims wait for it.
- **the token**: one login per run, shared by every process. A login may end the user's
  earlier sessions (free, v1.1), so the suite logs the account in only here (`token`), and
  again only when a 401 shows the token died (`renew`, once for everyone).
- **turns**: a test that logs the account in itself (`shared_login` marker: the auth tests,
  the form sign-in, the fuzzer's login cases) takes an exclusive turn: it waits until no other
  test uses the account, and keeps the others waiting until it ends; then the token is renewed.
  A test that spends the whole rate-limit budget (`rate_limit_budget`) takes one too, so that no
  request of another test is still to come inside its window.

Entries of a process that died are dropped, so a crashed worker cannot block the run.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import httpx
from filelock import FileLock

from testkit import waits
from testkit.budget import BudgetPlanner, spending_for

#: A test waits at most this long for items or a turn, then fails naming what it waited for.
MAX_WAIT = 300.0
POLL = 0.2
#: Whom the budget summary charges the `run_next_actions` runs that refill the queue.
REPLENISHING = "replenishing the queue (run_next_actions)"
#: Runs of `run_next_actions` one replenish may make.
MAX_REPLENISH = 3


class SharedUser(Protocol):
    """What a claim needs of a user of the account (contracts.api.users.User)."""

    def list_items(self, status: str | None = None) -> list[dict[str, Any]]: ...

    def execute(self, nba_id: str, action_key: str | None = None) -> httpx.Response: ...


class ItemsUnavailable(Exception):
    """The account cannot give a test the queued items it needs (the message says why)."""


class SharedWaitTooLong(RuntimeError):
    """A test waited MAX_WAIT seconds for items or a turn."""


_active: SharedAccount | None = None


def activate(account: SharedAccount | None) -> None:
    """Make `account` this process's hand-out (for code that has no pytest config: the fuzzer)."""
    global _active
    _active = account


def active() -> SharedAccount | None:
    return _active


def run_dir(testrunuid: str) -> Path:
    """The directory every process of one run shares (created on first use)."""
    path = Path(tempfile.gettempdir()) / f"e2e-shared-{testrunuid}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SharedAccount:
    """The E2E_EMAIL account's items, token and turns, for every process of one run."""

    def __init__(
        self,
        directory: Path,
        budget: BudgetPlanner,
        *,
        pid: int | None = None,
        alive: Callable[[int], bool] = pid_alive,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.path = directory / "account.json"
        self.budget = budget
        self.pid = os.getpid() if pid is None else pid
        self.alive = alive
        self.sleep = sleep
        self.max_wait = max_wait
        self._lock = FileLock(str(self.path) + ".lock")

    # ------------------------------------------------------------------ the file

    def _load(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            data = {}
        for key in ("holders", "waiting", "claims", "lead_hold", "lead_waiting"):
            data.setdefault(key, {})
        data.setdefault("token", None)
        data.setdefault("leads", [])
        data.setdefault("finished", [])
        data.setdefault("undeclared", {})
        self._drop_dead(data)
        return data

    def _drop_dead(self, data: dict[str, Any]) -> None:
        for key in ("holders", "waiting", "claims", "lead_hold"):
            data[key] = {k: v for k, v in data[key].items() if self.alive(int(v["pid"]))}
        data["lead_waiting"] = {
            lead: {who: pid for who, pid in waiting.items() if self.alive(int(pid))}
            for lead, waiting in data["lead_waiting"].items()
        }

    def _save(self, data: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(data))

    def _waited(self, waited: float, said: bool, why: str) -> tuple[float, bool]:
        """One poll more; says once (past waits.NOTICE_SECONDS) why, and gives up after max_wait."""
        if waited >= self.max_wait:
            raise SharedWaitTooLong(f"waited {waited:.0f} s for {why}: a test holding it may be stuck")
        self.sleep(POLL)
        waited += POLL
        if not said and waited > waits.NOTICE_SECONDS:
            waits.notice_ongoing(waited, self.max_wait, why)
            said = True
        return waited, said

    # ------------------------------------------------------------------ the run's end

    def finished(self, who: str) -> None:
        """Note that the test `who` is over (whatever its outcome), for `wait_for_the_others`."""
        with self._lock:
            data = self._load()
            data["finished"] = sorted(set(data["finished"]) | {who})
            self._save(data)

    def wait_for_the_others(self, who: str, tests: Iterable[str]) -> bool:
        """Wait until every test of `tests` but `who` is over; True when they are.

        Gives up after max_wait (a worker that died leaves its tests unfinished) and goes on:
        `who` would then only run sooner than it should, which costs time, not a wrong result.
        """
        pending = set(tests) - {who}
        waited, said = 0.0, False
        why = "every other test of the run to finish (it spends the whole rate-limit budget, so it goes last)"
        while True:
            with self._lock:
                left = pending - set(self._load()["finished"])
            if not left:
                return True
            try:
                waited, said = self._waited(waited, said, why)
            except SharedWaitTooLong:
                waits.notice_gave_up(waited, f"{why}; {len(left)} are not, e.g. {sorted(left)[0]}")
                return False

    def note_undeclared(self, who: str, gone: int, spends: int) -> None:
        """Note that `who` used up `gone` held items while declaring `spends` (for the summary)."""
        with self._lock:
            data = self._load()
            data["undeclared"][who] = [gone, spends]
            self._save(data)

    def undeclared(self) -> list[tuple[str, int, int]]:
        """(test, items used up, spends declared) of the tests that used up more than they declare."""
        with self._lock:
            data = self._load()
        return sorted((str(who), int(v[0]), int(v[1])) for who, v in data["undeclared"].items())

    # ------------------------------------------------------------------ turns

    def take_turn(self, who: str, *, exclusive: bool = False, logs_in: bool = True) -> None:
        """Use the account until `end_turn(who)`: alongside others, or alone (`exclusive`).

        An exclusive turn renews the token after it unless it does not log in (`logs_in`)."""
        waited, said = 0.0, False
        while True:
            with self._lock:
                data = self._load()
                others = {k: v for k, v in data["holders"].items() if k != who}
                if who in data["holders"] and (not exclusive or not others):
                    return
                if exclusive:
                    data["waiting"][who] = {"pid": self.pid}
                    if not others:
                        data["waiting"].pop(who, None)
                        data["holders"][who] = {"pid": self.pid, "exclusive": True, "logs_in": logs_in}
                        self._save(data)
                        return
                    self._save(data)
                else:
                    blocked = any(v.get("exclusive") for v in others.values()) or any(k != who for k in data["waiting"])
                    if not blocked:
                        data["holders"][who] = {"pid": self.pid, "exclusive": False}
                        self._save(data)
                        return
            why = (
                "its turn alone on the shared account "
                + (
                    "(it logs in, which may end the others' sessions)"
                    if logs_in
                    else "(it spends the whole rate-limit budget: it waits for the others' requests)"
                )
                if exclusive
                else "a test that has the shared account alone to finish"
            )
            waited, said = self._waited(waited, said, why)

    def end_turn(self, who: str) -> None:
        """End `who`'s turn and give back its items (and lead); after an exclusive turn, the
        token is renewed on next use (that test's logins may have ended it)."""
        with self._lock:
            data = self._load()
            held = data["holders"].pop(who, None)
            data["waiting"].pop(who, None)
            data["claims"] = {k: v for k, v in data["claims"].items() if v["who"] != who}
            data["lead_hold"] = {k: v for k, v in data["lead_hold"].items() if v["who"] != who}
            for waiting in data["lead_waiting"].values():
                waiting.pop(who, None)
            if held is not None and held.get("exclusive") and held.get("logs_in", True):
                data["token"] = None
            self._save(data)

    # ------------------------------------------------------------------ counters

    def count_up(self, name: str, limit: int) -> bool:
        """Count one more `name` for the whole run, unless `limit` are counted already (then False)."""
        with self._lock:
            data = self._load()
            counters = data.setdefault("counters", {})
            if counters.get(name, 0) >= limit:
                return False
            counters[name] = counters.get(name, 0) + 1
            self._save(data)
            return True

    # ------------------------------------------------------------------ the token

    def token(self, login: Callable[[], str]) -> str:
        """The run's token of the account, logging in (once for every process) when there is none."""
        with self._lock:
            data = self._load()
            if not data["token"]:
                data["token"] = login()
                self._save(data)
            return str(data["token"])

    def renew(self, dead: str, login: Callable[[], str]) -> str:
        """After a 401 on `dead`: a live token. Logs in only if nobody has since."""
        with self._lock:
            data = self._load()
            if data["token"] in (None, dead):
                data["token"] = login()
                self._save(data)
            return str(data["token"])

    # ------------------------------------------------------------------ items

    def claim(self, who: str, user: SharedUser, count: int, *, whole_lead: bool = False) -> tuple[str, list[str]]:
        """(lead id, ids of `count` queued items) that no other running test holds.

        `whole_lead`: `who` holds every queued item of the lead (it may run `run_next_actions`).
        Waits while other tests hold what it needs; replenishes when the lead has too few.
        Raises ItemsUnavailable when the account cannot give that many.
        """
        waited, said = 0.0, False
        while True:
            with self._lock:
                data = self._load()
                queued = user.list_items("queued")
                # Remembered: a lead whose items are all done has none in the queued list.
                data["leads"] += sorted({str(i.get("leadId")) for i in queued} - set(data["leads"]))
                lead, ids = _busiest_lead(queued, data, who)
                others = {k for k, v in data["claims"].items() if v["who"] != who and v["lead"] == lead}
                hold = data["lead_hold"].get(lead)
                mine = any(v["who"] == who for v in data["claims"].values())
                waiting = {k for k in data["lead_waiting"].get(lead, {}) if k != who}
                blocked = (hold is not None and hold["who"] != who) or (bool(waiting) and not mine)
                if not blocked and not whole_lead and len(ids) >= count and len(set(ids) - others) >= count:
                    free = [i for i in ids if i not in others][:count]
                    for item_id in free:
                        data["claims"][item_id] = {"who": who, "pid": self.pid, "lead": lead}
                    self._save(data)
                    return lead, free
                alone = not blocked and not others
                if not blocked and (whole_lead or len(ids) < count) and alone and lead:
                    data["lead_hold"][lead] = {"who": who, "pid": self.pid}
                    data["lead_waiting"].get(lead, {}).pop(who, None)
                    self._save(data)
                    break
                if not lead and (count > 0 or whole_lead):
                    raise ItemsUnavailable("it has no queued, unsnoozed next action on any lead")
                if not blocked and (whole_lead or len(ids) < count):
                    data["lead_waiting"].setdefault(lead, {})[who] = self.pid
                    self._save(data)
            waited, said = self._waited(
                waited, said, f"{count} queued item(s) of the shared account that other tests hold"
            )
        return self._claim_alone(who, user, lead, count, whole_lead)

    def _claim_alone(
        self, who: str, user: SharedUser, lead: str, count: int, whole_lead: bool
    ) -> tuple[str, list[str]]:
        """Holding the whole lead: replenish if it has too few, then claim."""
        ids = _queued_on(user.list_items("queued"), lead)
        runs = 0
        while len(ids) < count and runs < MAX_REPLENISH:
            seed = ids[0] if ids else _any_item_of(user, lead)
            if seed is None:
                break
            runs += 1
            with spending_for(REPLENISHING):
                response = user.execute(seed, "run_next_actions")
            if response.status_code != 200:
                break
            before, ids = len(ids), _queued_on(user.list_items("queued"), lead)
            if len(ids) <= before:
                break  # this implementation makes no more than that (one queued item is its MUST)
        with self._lock:
            data = self._load()
            if len(ids) < count:
                data["lead_hold"].pop(lead, None)
                self._save(data)
                raise ItemsUnavailable(
                    f"its lead {lead} has {len(ids)} queued, unsnoozed next action(s) after {runs} run(s) of "
                    "run_next_actions, which need only leave one"
                )
            taken = ids if whole_lead else ids[:count]
            for item_id in taken:
                data["claims"][item_id] = {"who": who, "pid": self.pid, "lead": lead}
            if not whole_lead:
                data["lead_hold"].pop(lead, None)
            self._save(data)
        return lead, taken if whole_lead else ids[:count]


def _queued_on(items: list[dict[str, Any]], lead: str) -> list[str]:
    return [str(i["id"]) for i in items if str(i.get("leadId")) == lead]


def _busiest_lead(items: list[dict[str, Any]], data: dict[str, Any], who: str) -> tuple[str, list[str]]:
    """The lead `who` already holds items of, else the one with the most queued items."""
    for claim in data["claims"].values():
        if claim["who"] == who:
            return claim["lead"], _queued_on(items, claim["lead"])
    for lead, hold in data["lead_hold"].items():
        if hold["who"] == who:
            return lead, _queued_on(items, lead)
    by_lead: dict[str, list[str]] = {}
    for item in items:
        by_lead.setdefault(str(item.get("leadId")), []).append(str(item["id"]))
    if not by_lead:
        return (data["leads"][0] if data["leads"] else ""), []
    lead = max(by_lead, key=lambda key: len(by_lead[key]))
    return lead, by_lead[lead]


def _any_item_of(user: SharedUser, lead: str) -> str | None:
    """An item of `lead` to run `run_next_actions` on when none is queued: a done one."""
    done = _queued_on(user.list_items("done"), lead)
    return done[0] if done else None
