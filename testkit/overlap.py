"""Waiting tests each on a pytest-xdist worker of their own, from the start, beside the rest.

The suite's `slow` tests mostly sleep (out a Retry-After, past a minute boundary, a minute of
idempotency key life), by the server's Date. Under plain work stealing the first worker gets
the first half of the queue, so those waits, sorted first, ran one after the other on it. Here
the default run (testkit/workers.py) starts a worker per waiting test plus working ones, and
`OverlapScheduling` hands each waiting test a worker of its own at the start; the other tests
are shared out among the remaining workers with pytest-xdist's work stealing, unchanged.

The controller only sees node ids, so it learns which tests wait from the workers: each worker
writes, after ordering its collection, the waiting tests' node ids to a file the controller
named in its `workerinput` (`record_waiting`); the controller reads it when every worker has
collected, which is when pytest-xdist first calls `schedule()`. Without that file (a worker
that did not write it) the run is plain work stealing.

The scheduler relies on WorkStealingScheduling's attributes (node2collection, node2pending,
pending, collection) and helpers; tests/testkit/test_overlap.py drives the real class and a
real pytest-xdist run, so an xdist release that changes them fails a test.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import WorkStealingScheduling

from testkit.collection import is_waiting

#: The `workerinput` key under which the controller tells workers where to write the waiting ids.
WAITING_FILE_KEY = "e2e_waiting_file"
#: The file's name in the controller's temporary directory.
WAITING_FILE = "waiting.json"


@dataclass(frozen=True)
class Plan:
    """The first hand-out: `own[i]` goes to the i-th node, `rest` is shared out by work stealing."""

    own: list[list[int]]
    rest: list[int]


def plan(collection: Sequence[str], waiting: Collection[str], nodes: int) -> Plan:
    """Which collection indices each node starts with.

    Each waiting test (in collection order) gets a node of its own, as long as one node is left
    for the others. A worker starts a test only once it knows the next one (pytest's `nextitem`
    for teardown), so each waiting test comes with one other test, the first of the others not
    yet taken, which its node runs after the wait; then that node steals work like any other.
    """
    waiting_indices = [index for index, nodeid in enumerate(collection) if nodeid in waiting]
    waiters = waiting_indices[: max(nodes - 1, 0)]
    # What follows a waiting test is never another waiting test (those left over wait in the rest).
    all_waiting = set(waiting_indices)
    followers = [index for index in range(len(collection)) if index not in all_waiting][: len(waiters)]
    own = [[waiter, followers[n]] if n < len(followers) else [waiter] for n, waiter in enumerate(waiters)]
    taken = set(waiters) | set(followers)
    return Plan(own, [index for index in range(len(collection)) if index not in taken])


def read_waiting(path: Path) -> frozenset[str]:
    """The node ids a worker recorded; none when no worker wrote the file."""
    try:
        ids = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return frozenset()
    if not isinstance(ids, list) or not all(isinstance(nodeid, str) for nodeid in ids):
        raise ValueError(f"{path}: the waiting tests' file must hold a JSON list of node ids, got {ids!r}")
    return frozenset(ids)


def record_waiting(config: pytest.Config, items: Sequence[pytest.Item]) -> None:
    """In a worker of a run scheduled here: write the waiting tests' node ids where the controller reads them."""
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    target = workerinput.get(WAITING_FILE_KEY)
    if not target:
        return
    path = Path(str(target))
    # Every worker writes the same list; each through its own file and an atomic rename, so the
    # controller never reads half a file. The rename happens before the worker reports its
    # collection, hence before the controller schedules.
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    partial.write_text(json.dumps([item.nodeid for item in items if is_waiting(item)]), encoding="utf-8")
    os.replace(partial, path)


class OverlapScheduling(WorkStealingScheduling):  # type: ignore[misc]  # pytest-xdist ships no type hints
    """Work stealing whose first hand-out gives each waiting test a node of its own (`plan`)."""

    # What this class uses of WorkStealingScheduling's state (set by its __init__ and schedule).
    collection: list[str] | None
    pending: list[int]
    node2collection: dict[Any, list[str]]
    node2pending: dict[Any, list[int]]

    def __init__(self, config: pytest.Config, log: Any, waiting_file: Path) -> None:
        super().__init__(config, log)
        self.waiting_file = waiting_file

    def schedule(self) -> None:
        if self.collection is not None:  # a later call (a node replaced): xdist's own rescheduling
            super().schedule()
            return
        if not self._check_nodes_have_same_collection():  # it reported the differences
            self.log("**Different tests collected, aborting run**")
            return
        collection: list[str] = next(iter(self.node2collection.values()))
        if not collection:
            self.collection = collection
            return
        first = plan(collection, read_waiting(self.waiting_file), len(self.nodes))
        self.collection = collection
        self.pending[:] = first.rest
        for node, indices in zip(self.nodes, first.own, strict=False):
            self.node2pending[node].extend(indices)
            node.send_runtest_some(indices)
        self.check_schedule()  # the rest, evenly over the nodes left idle, then stolen as usual


class OverlapPlugin:
    """Registered on the controller by testkit/workers.py when it chooses the default workers."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="e2e-overlap-"))

    @property
    def waiting_file(self) -> Path:
        return self.directory / WAITING_FILE

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WAITING_FILE_KEY] = str(self.waiting_file)

    # tryfirst: ahead of pytest-xdist's own implementation, which answers "worksteal" itself.
    @pytest.hookimpl(tryfirst=True, optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> OverlapScheduling:
        return OverlapScheduling(config, log, self.waiting_file)

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
