"""The guards' patch tables: install wraps every point once; uninstall restores the very originals."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from safety import browser_guard, network_guard, wire_guard
from safety.patching import PatchTable

ROOT = Path(__file__).resolve().parents[2]


class _Base:
    def inherited(self) -> str:
        return "base"


class _Owner(_Base):
    def own(self) -> str:
        return "own"

    @staticmethod
    def static() -> str:
        return "static"


def _own(self: _Owner) -> str:
    return "wrapped " + TABLE.original(_Owner, "own")(self)


def _inherited(self: _Owner) -> str:
    return "wrapped " + TABLE.original(_Owner, "inherited")(self)


def _static() -> str:
    return "wrapped " + TABLE.original(_Owner, "static")()


TABLE = PatchTable(
    lambda: [
        (_Owner, "own", _own),
        (_Owner, "inherited", _inherited),
        (_Owner, "static", staticmethod(_static)),
    ]
)


def test_uninstall_restores_own_inherited_and_static_attributes_as_they_were() -> None:
    before = dict(vars(_Owner))
    assert TABLE.install() is True
    try:
        owner = _Owner()
        assert (owner.own(), owner.inherited(), owner.static()) == ("wrapped own", "wrapped base", "wrapped static")
    finally:
        assert TABLE.uninstall() is True
    assert dict(vars(_Owner)) == before
    assert all(vars(_Owner)[name] is value for name, value in before.items())
    assert "inherited" not in vars(_Owner)  # removed again, not left behind as a copy of the base's
    assert (_Owner().own(), _Owner().inherited(), _Owner.static()) == ("own", "base", "static")
    assert TABLE.uninstall() is False  # nothing left to undo


def test_installing_twice_wraps_once() -> None:
    pristine = vars(_Owner)["own"]
    assert TABLE.install() is True
    try:
        assert TABLE.install() is False
        assert vars(_Owner)["own"] is _own
        assert TABLE.original(_Owner, "own") is pristine  # the original, not the first wrapper
        assert _Owner().own() == "wrapped own"  # not "wrapped wrapped own"
    finally:
        TABLE.uninstall()
    assert vars(_Owner)["own"] is pristine


# A fresh interpreter, so that the tables start from the libraries' own attributes: `-I` keeps
# this test's child guard (its sitecustomize on PYTHONPATH) out; the child sends nothing anywhere.
_CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from safety import browser_guard, network_guard, wire_guard
    from safety.hosts import HostPolicy
    from safety.network_guard import NetworkGuard

    TABLES = {"network_guard": network_guard.PATCHES, "wire_guard": wire_guard.PATCHES,
              "browser_guard": browser_guard.PATCHES}
    MISSING = object()

    def own(table):
        return [vars(owner).get(attribute, MISSING) for owner, attribute, _ in table.points()]

    def current(table):
        return [getattr(owner, attribute) for owner, attribute, _ in table.points()]

    def wrappers(table):
        return [wrapper.__func__ if isinstance(wrapper, staticmethod) else wrapper
                for _, _, wrapper in table.points()]

    def names(table):
        return [f"{getattr(owner, '__name__', owner)}.{attribute}" for owner, attribute, _ in table.points()]

    result = {}
    before = {name: own(t) for name, t in TABLES.items()}
    resolved = {name: current(t) for name, t in TABLES.items()}
    outer, inner = NetworkGuard(HostPolicy()), NetworkGuard(HostPolicy())

    def install_all(guard):
        network_guard.install(guard)
        wire_guard.install()
        browser_guard.install()

    install_all(outer)
    result["wrapped"] = {name: current(t) == wrappers(t) for name, t in TABLES.items()}
    install_all(inner)  # a second guard (a pytester run inside a test): installed again
    result["wrapped_once"] = {
        name: current(t) == wrappers(t)
        and all(t.original(o, a) is r for (o, a, _), r in zip(t.points(), resolved[name]))
        for name, t in TABLES.items()
    }
    network_guard.uninstall(inner)
    result["kept_for_outer"] = {name: t.installed and current(t) == wrappers(t) for name, t in TABLES.items()}
    result["armed"] = network_guard.release(outer)
    result["kept_while_armed"] = {name: t.installed for name, t in TABLES.items()}
    network_guard.uninstall(outer)
    result["restored"] = {
        name: [n for n, b, a in zip(names(t), before[name], own(t)) if b is not a]
        for name, t in TABLES.items()
    }
    result["points"] = {name: len(t.points()) for name, t in TABLES.items()}
    print(json.dumps(result))
    """
)


def _child_result() -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-I", "-c", _CHILD, str(ROOT)], capture_output=True, text=True, timeout=120, check=False
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def test_every_guard_table_installs_once_and_uninstalls_to_the_very_originals() -> None:
    result = _child_result()
    tables = ["network_guard", "wire_guard", "browser_guard"]
    assert result["points"] == {"network_guard": 5, "wire_guard": 11, "browser_guard": 8}
    assert result["wrapped"] == dict.fromkeys(tables, True)
    assert result["wrapped_once"] == dict.fromkeys(tables, True)
    assert result["kept_for_outer"] == dict.fromkeys(tables, True)
    # The process's own guard stays armed, every patch in place, until the process exits.
    assert result["armed"] is True
    assert result["kept_while_armed"] == dict.fromkeys(tables, True)
    # Every attribute is the very object it was before install (an inherited one inherited again).
    assert result["restored"] == {name: [] for name in tables}


def test_an_inner_pytest_run_leaves_the_outer_guards_patches_in_place(pytester: pytest.Pytester) -> None:
    tables = (network_guard.PATCHES, wire_guard.PATCHES, browser_guard.PATCHES)
    outer = network_guard.active_guard()
    assert outer is not None, "this test runs under the safety plugin, whose guard is the outer one"
    before = [[getattr(owner, attribute) for owner, attribute, _ in table.points()] for table in tables]
    pytester.makepyfile("def test_inner():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    # The inner run installed and released a guard of its own; the outer one still has every patch.
    assert network_guard.active_guard() is outer
    assert all(table.installed for table in tables)
    assert [[getattr(owner, attribute) for owner, attribute, _ in table.points()] for table in tables] == before
