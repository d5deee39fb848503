"""Each waiting test on a worker of its own (testkit/overlap.py): the plan, the real scheduler, a real run.

The scheduler subclasses pytest-xdist's WorkStealingScheduling and uses its attributes: the
tests here drive that real class (with fake nodes, as the DSession would) and a real
pytest-xdist run, so an xdist release that changes what it relies on fails here rather than
silently slowing the suite down.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from testkit.overlap import (
    WAITING_FILE_KEY,
    OverlapPlugin,
    OverlapScheduling,
    plan,
    read_waiting,
    record_waiting,
)

IDS = [f"t.py::test_{name}" for name in ("w1", "w2", "a", "b", "c", "d", "e", "f")]
WAITING = {"t.py::test_w1", "t.py::test_w2"}


# --------------------------------------------------------------------------- the plan


def test_each_waiting_test_gets_a_node_with_one_test_to_follow_it() -> None:
    first = plan(IDS, WAITING, 3)
    assert first.own == [[0, 2], [1, 3]]
    assert first.rest == [4, 5, 6, 7]


def test_one_node_is_always_left_for_the_rest() -> None:
    first = plan(IDS, WAITING, 2)
    assert first.own == [[0, 2]]
    assert first.rest == [1, 3, 4, 5, 6, 7]  # the second waiting test is shared out with the rest


def test_waiting_tests_are_found_wherever_they_are_collected() -> None:
    first = plan(["a", "w", "b", "c"], {"w"}, 2)
    assert first.own == [[1, 0]]
    assert first.rest == [2, 3]


@pytest.mark.parametrize("nodes", [0, 1])
def test_without_a_second_node_everything_is_shared_out(nodes: int) -> None:
    assert plan(IDS, WAITING, nodes).own == []
    assert plan(IDS, WAITING, nodes).rest == list(range(len(IDS)))


def test_without_waiting_tests_everything_is_shared_out() -> None:
    first = plan(IDS, set(), 4)
    assert (first.own, first.rest) == ([], list(range(len(IDS))))


def test_a_waiting_test_with_nothing_left_to_follow_it_goes_alone() -> None:
    first = plan(["w1", "w2", "a"], {"w1", "w2"}, 4)
    assert first.own == [[0, 2], [1]]
    assert first.rest == []


# --------------------------------------------------------------------------- the waiting file


def test_no_file_means_no_waiting_tests(tmp_path: Path) -> None:
    assert read_waiting(tmp_path / "waiting.json") == frozenset()


def test_a_file_that_is_not_a_list_of_ids_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "waiting.json"
    path.write_text('{"t.py::test_w1": 1}', encoding="utf-8")
    with pytest.raises(ValueError, match="JSON list of node ids"):
        read_waiting(path)


def _items(marked: dict[str, bool | float]) -> list[pytest.Item]:
    """Fake items: True is a bare `slow` marker, a number `slow(seconds=number)`, False none."""

    def slow(value: bool | float) -> pytest.Mark | None:
        if value is False:
            return None
        return pytest.mark.slow.mark if value is True else pytest.mark.slow(seconds=value).mark

    def marker(nodeid: str) -> Any:
        return lambda name: slow(marked[nodeid]) if name == "slow" else None

    return [cast(pytest.Item, SimpleNamespace(nodeid=n, get_closest_marker=marker(n))) for n in marked]


def test_a_worker_of_the_default_run_records_its_waiting_tests(tmp_path: Path) -> None:
    path = tmp_path / "waiting.json"
    config = cast(pytest.Config, SimpleNamespace(workerinput={WAITING_FILE_KEY: str(path)}))
    items = {"t.py::test_w1": True, "t.py::test_a": False, "t.py::test_short": 8, "t.py::test_w2": 60}
    record_waiting(config, _items(items))
    assert read_waiting(path) == WAITING
    assert [p.name for p in tmp_path.iterdir()] == ["waiting.json"]  # no partial file left behind


@pytest.mark.parametrize("config", [SimpleNamespace(), SimpleNamespace(workerinput={"workerid": "gw0"})])
def test_other_processes_record_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, config: Any) -> None:
    monkeypatch.chdir(tmp_path)
    record_waiting(cast(pytest.Config, config), _items({"t.py::test_w1": True}))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- pytest-xdist's real scheduler


class FakeNode:
    """What the scheduler uses of pytest-xdist's WorkerController; records what it is sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.workerinput: dict[str, Any] = {"workerid": name}
        self.sent: list[int] = []
        self.steals: list[list[int]] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: Sequence[int]) -> None:
        self.sent.extend(indices)

    def send_steal(self, indices: Sequence[int]) -> None:
        self.steals.append(list(indices))

    def shutdown(self) -> None:
        self.shutting_down = True

    def __repr__(self) -> str:
        return f"FakeNode({self.gateway.id})"


def _scheduler(pytester: pytest.Pytester, nodes: int, waiting: set[str] | None) -> tuple[OverlapScheduling, list[Any]]:
    config = pytester.parseconfig("--tx", f"{nodes}*popen", "--dist", "worksteal")
    waiting_file = pytester.path / "waiting.json"
    if waiting is not None:
        waiting_file.write_text(json.dumps(sorted(waiting)), encoding="utf-8")
    sched = OverlapScheduling(config, None, waiting_file)
    sched.ran = []  # what the fake workers reported done
    fakes = [FakeNode(f"gw{i}") for i in range(nodes)]
    for node in fakes:
        sched.add_node(node)
    for node in fakes:
        assert not sched.collection_is_completed
        sched.add_node_collection(node, IDS)
    assert sched.collection_is_completed
    return sched, fakes


def _finish(sched: OverlapScheduling, node: FakeNode, index: int) -> None:
    """The worker reports a test done; a steal it was asked for is answered at once."""
    assert index in sched.node2pending[node], f"{node} runs only what it holds, not {index}"
    sched.ran.append(index)
    sched.mark_test_complete(node, index)
    for victim in sched.nodes:
        while victim.steals:
            sched.remove_pending_tests_from_node(victim, victim.steals.pop())


def test_the_real_scheduler_gives_each_waiting_test_a_node_and_steals_as_usual(pytester: pytest.Pytester) -> None:
    sched, (w1, w2, worker) = _scheduler(pytester, 3, WAITING)
    sched.schedule()
    assert (w1.sent, w2.sent, worker.sent) == ([0, 2], [1, 3], [4, 5, 6, 7])
    assert sched.has_pending and not sched.tests_finished

    # The second waiting test ends early; its node runs the test after it, then steals from the worker.
    _finish(sched, worker, 4)
    _finish(sched, w2, 1)
    _finish(sched, w2, 3)
    assert w2.sent[2:] == [7], "an idle node steals from the longest queue"
    assert worker.sent == [4, 5, 6, 7]
    assert sched.node2pending[worker] == [5, 6]

    # Nothing left to steal (a waiting node keeps its two): idle nodes are shut down, not starved.
    for index in (5, 6):
        _finish(sched, worker, index)
    _finish(sched, w2, 7)
    assert worker.shutting_down and w2.shutting_down and not w1.shutting_down
    assert not sched.tests_finished
    _finish(sched, w1, 0)
    _finish(sched, w1, 2)
    assert sched.tests_finished
    assert sorted(sched.ran) == list(range(len(IDS))), "every test ran once"


def test_without_the_waiting_file_the_real_scheduler_is_plain_work_stealing(pytester: pytest.Pytester) -> None:
    sched, nodes = _scheduler(pytester, 3, None)
    sched.schedule()
    assert [node.sent for node in nodes] == [[0, 1], [2, 3, 4], [5, 6, 7]]  # xdist's contiguous split


def test_an_empty_collection_sends_nothing(pytester: pytest.Pytester) -> None:
    config = pytester.parseconfig("--tx", "2*popen", "--dist", "worksteal")
    sched = OverlapScheduling(config, None, pytester.path / "waiting.json")
    nodes = [FakeNode("gw0"), FakeNode("gw1")]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, [])
    sched.schedule()
    assert [node.sent for node in nodes] == [[], []]
    assert sched.tests_finished


def test_a_node_that_joins_later_is_scheduled_the_xdist_way(pytester: pytest.Pytester) -> None:
    sched, nodes = _scheduler(pytester, 2, WAITING)
    sched.schedule()
    late = FakeNode("gw9")
    sched.add_node(late)
    sched.add_node_collection(late, IDS)
    sched.schedule()
    assert late.steals == [] and nodes[1].steals, "the late node's first work is stolen from the busiest node"


def test_the_plugin_tells_workers_where_to_write_and_cleans_up(pytester: pytest.Pytester) -> None:
    plugin = OverlapPlugin()
    node = FakeNode("gw0")
    plugin.pytest_configure_node(node)
    assert node.workerinput[WAITING_FILE_KEY] == str(plugin.waiting_file)
    config = pytester.parseconfig("--tx", "2*popen", "--dist", "worksteal")
    assert isinstance(plugin.pytest_xdist_make_scheduler(config, None), OverlapScheduling)
    assert plugin.directory.is_dir()
    plugin.pytest_unconfigure()
    assert not plugin.directory.exists()


# --------------------------------------------------------------------------- a real pytest-xdist run

REAL_RUN_CONFTEST = """
import os, time
from pathlib import Path
import pytest
from testkit import collection, overlap

def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(overlap.OverlapPlugin(), "e2e-overlap")

def pytest_collection_modifyitems(config, items):
    collection.order_items(items, shared_budget=False)
    overlap.record_waiting(config, items)

@pytest.fixture(autouse=True)
def _log(request):
    started = time.monotonic()
    yield
    line = f"{request.node.nodeid} {os.environ['PYTEST_XDIST_WORKER']} {started} {time.monotonic()}\\n"
    with open(os.environ["OVERLAP_LOG"], "a") as log:
        log.write(line)
"""

REAL_RUN_TESTS = """
import os
import time
from pathlib import Path
import pytest

@pytest.mark.slow
@pytest.mark.parametrize("n", range(2))
def test_waits(n):
    # A meeting point, not a sleep: each waits (bounded) until the other has started. Run one after
    # the other, the first never meets the second; run at once, they meet however loaded the machine.
    here = Path(os.environ["OVERLAP_LOG"]).parent
    (here / f"started-{n}").touch()
    deadline = time.monotonic() + 60
    while not (here / f"started-{1 - n}").exists():
        assert time.monotonic() < deadline, "the other waiting test did not start while this one waited"
        time.sleep(0.05)

@pytest.mark.parametrize("n", range(4))
def test_quick(n):
    time.sleep(0.05)
"""


def test_a_real_xdist_run_overlaps_the_waiting_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three workers: the two waiting tests start at once on two of them (plain work stealing
    would give the first worker the first two, one after the other)."""
    pytester.makeini("[pytest]\nmarkers =\n    slow: waits\n")
    pytester.makeconftest(REAL_RUN_CONFTEST)
    pytester.makepyfile(test_real=REAL_RUN_TESTS)
    log = pytester.path / "ran.log"
    monkeypatch.setenv("OVERLAP_LOG", str(log))
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])
    )
    result = pytester.runpytest_subprocess("-p", "xdist", "-n", "3", "--dist", "worksteal", "-p", "no:randomly")
    result.assert_outcomes(passed=6)
    ran = {
        nodeid: (worker, float(start), float(end))
        for nodeid, worker, start, end in (line.split() for line in log.read_text().splitlines())
    }
    waits = [ran[f"test_real.py::test_waits[{n}]"] for n in range(2)]
    assert len({worker for worker, _, _ in waits}) == 2, f"each waiting test on a worker of its own: {waits}"
    # Both passed (above): each met the other while it waited, so they ran at once.
