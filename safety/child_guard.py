"""Python child processes a test starts carry the network guard, and report what it blocked.

The plugin publishes the running test's guard (host lists, production origins, what
the test may write to) in E2E_SAFETY_CHILD_GUARD, and puts `safety/_child` first on
PYTHONPATH: its `sitecustomize` arms the same guard in any Python interpreter started
from the test (`subprocess` running Python, multiprocessing spawn and forkserver). A
forked child inherits the guard itself. Whatever a child blocks is appended to a
report file that the parent reads into the running test, so the test fails even when
the child's own error is lost. Non-Python programs (curl, a browser started by hand)
are out of reach.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from safety import network_guard, wire_guard
from safety.hosts import HostPolicy
from safety.network_guard import NetworkGuard

CHILD_ENV = "E2E_SAFETY_CHILD_GUARD"
BOOTSTRAP = str(Path(__file__).resolve().parent / "_child")
_child_guard: list[NetworkGuard] = []


class Publisher:
    """The parent's side: the environment children inherit, and the report they write to."""

    def __init__(self, guard: NetworkGuard) -> None:
        self.guard = guard
        handle, self.report = tempfile.mkstemp(prefix="e2e-guard-children-", suffix=".log")
        os.close(handle)
        self._read = 0
        self._saved = {name: os.environ.get(name) for name in (CHILD_ENV, "PYTHONPATH")}
        # This pytest may be a child (an xdist worker, a test's subprocess): a block at its exit
        # is reported to the parent, whose run it then fails.
        self._parent_report = _report_path(self._saved[CHILD_ENV])
        if self._parent_report and self._parent_report not in network_guard.exit_report_paths:
            network_guard.exit_report_paths.append(self._parent_report)
        else:
            self._parent_report = None
        path = os.environ.get("PYTHONPATH", "")
        if BOOTSTRAP not in path.split(os.pathsep):
            os.environ["PYTHONPATH"] = BOOTSTRAP + (os.pathsep + path if path else "")
        self.publish()

    def publish(self) -> None:
        """Give children the guard as it stands now (call after its permissions change)."""
        os.environ[CHILD_ENV] = json.dumps({**self.guard.export(), "report": self.report})

    def collect(self) -> None:
        """Record, on the parent's guard, what the children blocked since the last call."""
        try:
            with open(self.report, "rb") as handle:
                handle.seek(self._read)
                data = handle.read()
        except OSError:
            return
        complete = data[: data.rfind(b"\n") + 1]
        self._read += len(complete)
        for line in complete.decode("utf-8", "replace").splitlines():
            if line:
                self.guard.record_from_child(line)

    def close(self, keep_environment: bool) -> None:
        self.collect()
        if keep_environment:
            # Children started at exit still report here; the file goes with the process.
            remove = functools.partial(Path(self.report).unlink, missing_ok=True)
            atexit.register(remove)
            network_guard.at_forced_exit.append(remove)
        else:
            if self._parent_report in network_guard.exit_report_paths:
                network_guard.exit_report_paths.remove(self._parent_report)
            for name, value in self._saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            Path(self.report).unlink(missing_ok=True)


def _report_path(config: str | None) -> str | None:
    try:
        report = json.loads(config).get("report") if config else None
    except ValueError:
        return None
    return str(report) if report else None


def arm_child() -> None:
    """In a child interpreter: install the guard its parent test published."""
    config: dict[str, Any] = json.loads(os.environ[CHILD_ENV])
    policy = HostPolicy(
        safe_hosts=[(h, s) for h, s in config["safe"]],
        prod_hosts=[(h, s) for h, s in config["prod"]],
    )
    guard = NetworkGuard(policy)
    guard.load(config)
    guard.report_path = str(config["report"])
    network_guard.install(guard)
    wire_guard.install()
    _child_guard.append(guard)


def retire() -> None:
    """A pytest process started from a test has a guard of its own: the inherited one steps aside."""
    while _child_guard:
        network_guard.uninstall(_child_guard.pop())


def _after_fork() -> None:
    # A forked child keeps the parent's guard; it must report what it blocks to the parent.
    config = os.environ.get(CHILD_ENV)
    if not config:
        return
    report = json.loads(config).get("report")
    guard = network_guard.active_guard()
    if guard is not None and report:
        guard.report_path = str(report)


os.register_at_fork(after_in_child=_after_fork)

_PYTHON = re.compile(r"python[\d.]*$")
_popen_init: list[Any] = []


def program_out_of_reach(args: Any, executable: Any = None, shell: bool = False) -> str | None:
    """The program a Popen call starts when it is not Python (so not guarded); None for Python."""
    try:
        if shell:
            words = shlex.split(str(args)) if isinstance(args, (str, bytes)) else [str(a) for a in args]
            first = words[0] if words else ""
        elif executable is not None:
            first = os.fsdecode(executable)
        elif isinstance(args, (str, bytes, os.PathLike)):
            first = os.fsdecode(args)
        else:
            first = os.fsdecode(next(iter(args)))
    except (ValueError, IndexError, TypeError, StopIteration):
        return None
    name = os.path.basename(first)
    if not name or _PYTHON.match(name) or os.path.realpath(first) == os.path.realpath(sys.executable):
        return None
    if "playwright" in Path(first).parts:
        return None  # Playwright's own driver: what the browser sends is guarded (safety.browser_guard)
    return name


def watch_programs() -> None:
    """Note every non-Python program a test starts: the guard cannot see what it sends."""
    if _popen_init:
        return
    _popen_init.append(subprocess.Popen.__init__)

    def init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        program = program_out_of_reach(args, kwargs.get("executable"), bool(kwargs.get("shell")))
        guard = network_guard.active_guard()
        if program is not None and guard is not None:
            guard.note_program(program)
        _popen_init[0](self, args, *rest, **kwargs)

    subprocess.Popen.__init__ = init  # type: ignore[method-assign]
