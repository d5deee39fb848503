"""The suite runs on pytest-xdist workers by default, so that its waits overlap each other and the rest.

Only where nobody chose otherwise: `-n`/`--numprocesses` given (`-n 0` is the way out; `-n N`
alone keeps pytest-xdist's own `load` scheduling), `--dist` given, `-p no:xdist`,
`--collect-only`, `--pdb`/`--trace`, inside a worker, on a single core; and not for small
selections, where workers and their apps cost more than they save: only test files or node
ids named, or a `-k` expression.

How many, and how they share the tests:

- Every test on its own fixtures user (E2E_EMAIL unset): `OVERLAP_WORKERS` workers, and the
  scheduler of testkit/overlap.py. The waiting tests (`slow`, a wait of 20 s or more:
  collection.is_waiting) mostly sleep, by the server's Date: each gets a worker of its own
  from the start, and the other tests are shared by work stealing among the rest of the
  workers (a waiting test's worker joins them once its wait is over). The run then lasts about
  as long as its longest wait plus the workers' start, where the machine has the CPU for the
  rest meanwhile. A sleeping worker costs no CPU, but each worker pays its own start (about
  4.7 s of CPU: imports Playwright and schemathesis, collects, then starts its own embedded
  app), so there are just enough workers for each of the suite's waiting tests plus one working
  worker (tests/testkit/test_workers.py checks the count against the suite; README
  "Benchmarks" has the measurements).
- The shared E2E_EMAIL account (collection.shares_one_budget): `DEFAULT_WORKERS` workers with
  plain work stealing, in the cautious shared-budget order of testkit/collection.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from testkit.collection import shares_one_budget
from testkit.required import suite_args

#: Workers of a run on the shared account; also the fewest cores for which workers are worth it.
DEFAULT_WORKERS = 2
#: Workers of a run where every test has its own user: one per waiting test (three in the suite:
#: two rate-limit waits and the idempotency key's minute; the 8 s rerun gap is too short to be
#: worth a worker's start) plus one for the rest.
OVERLAP_WORKERS = 4
#: pytest-xdist's scheduler that lets an idle worker take tests queued on a busy one, so a
#: worker waiting out Retry-After does not hold a batch of tests hostage.
DEFAULT_DIST = "worksteal"
#: The name under which testkit/overlap.py's plugin is registered on the controller.
OVERLAP_PLUGIN = "e2e-overlap"


def default_workers(config: pytest.Config, suite_dirs: Sequence[Path], env: Mapping[str, str] = os.environ) -> int:
    """How many workers to start when the user did not say: 0 (no xdist) or a default above."""
    option = config.option
    if not config.pluginmanager.has_plugin("xdist") or hasattr(config, "workerinput"):
        return 0
    if getattr(option, "numprocesses", None) is not None or getattr(option, "dist", "no") != "no":
        return 0
    if option.collectonly or option.usepdb or getattr(option, "trace", False) or option.keyword:
        return 0
    if (os.cpu_count() or 1) < DEFAULT_WORKERS:
        return 0
    hits = suite_args(config.args, config.invocation_params.dir, suite_dirs)
    folders = [arg for arg in hits if "::" not in arg and (config.invocation_params.dir / arg).is_dir()]
    if not folders:
        return 0
    return DEFAULT_WORKERS if shares_one_budget(env) else OVERLAP_WORKERS


def apply_default_workers(
    config: pytest.Config, suite_dirs: Sequence[Path], env: Mapping[str, str] = os.environ
) -> None:
    workers = default_workers(config, suite_dirs, env)
    if not workers:
        return
    config.option.numprocesses = workers
    config.option.dist = DEFAULT_DIST
    if not shares_one_budget(env):
        # Imported here: it needs pytest-xdist, which the root conftest.py may not import up front
        # (outside the environment it must still say how to run the suite).
        from testkit.overlap import OverlapPlugin

        config.pluginmanager.register(OverlapPlugin(), OVERLAP_PLUGIN)
