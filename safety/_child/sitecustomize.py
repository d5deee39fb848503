"""Arms the e2e network guard in a Python child process of a test (safety.child_guard).

The harness puts this directory first on PYTHONPATH, so every Python interpreter a test
starts (subprocess, multiprocessing spawn or forkserver) runs this at start-up. It does
nothing unless E2E_SAFETY_CHILD_GUARD is set, then hands over to any sitecustomize this
one shadows.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

# An execnet gateway (an xdist worker) is started as `python -c` with this bootstrap.
_EXECNET = "import sys;exec(eval(sys.stdin.readline()))"


def _runs_pytest(argv: list[str]) -> bool:
    """A pytest run (or an xdist worker) arms a guard of its own, from its plugin."""
    args = argv[1:]
    if args and os.path.basename(args[0]) in ("pytest", "py.test"):
        return True
    pairs = zip(args, [*args[1:], ""], strict=True)
    return any(
        a in ("-mpytest", "-mpy.test") or (a == "-m" and b in ("pytest", "py.test")) or (a == "-c" and b == _EXECNET)
        for a, b in pairs
    )


def _arm() -> None:
    # Imported before pytest, the harness could not be assertion-rewritten: pytest arms its own.
    if not os.environ.get("E2E_SAFETY_CHILD_GUARD") or _runs_pytest(list(getattr(sys, "orig_argv", []))):
        return
    try:
        from safety import child_guard
    except ImportError as error:
        sys.stderr.write(
            f"e2e network guard: this Python child process runs UNGUARDED: it cannot import the "
            f"harness ({error}). Run it with the suite's own interpreter (.venv/bin/python).\n"
        )
        return
    child_guard.arm_child()


def _chain() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


_arm()
_chain()
