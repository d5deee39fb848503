"""The suite runs on pytest-xdist workers by default: its waits (Retry-After, the browser) overlap.

Only where nobody chose otherwise: `-n`/`--numprocesses` given (`-n 0` is the way out),
`-p no:xdist`, `--collect-only`, `--pdb`/`--trace`, inside a worker; and not for small
selections, where a worker pair and its two apps cost more than they save: only test files
or node ids named, or a `-k` expression.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from testkit.required import suite_args

DEFAULT_WORKERS = 2
#: pytest-xdist's scheduler that lets an idle worker take tests queued on a busy one, so a
#: worker waiting out Retry-After does not hold a batch of tests hostage.
DEFAULT_DIST = "worksteal"


def default_workers(config: pytest.Config, suite_dirs: Sequence[Path]) -> int:
    """How many workers to start when the user did not say: DEFAULT_WORKERS or 0 (no xdist)."""
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
    return DEFAULT_WORKERS if folders else 0


def apply_default_workers(config: pytest.Config, suite_dirs: Sequence[Path]) -> None:
    workers = default_workers(config, suite_dirs)
    if workers:
        config.option.numprocesses = workers
        config.option.dist = DEFAULT_DIST
