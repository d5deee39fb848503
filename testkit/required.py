"""No guard, no run: the suite refuses to run without the e2e_safety plugin.

Without the plugin nothing classifies the target or stops a write to production, so
collecting contracts/ or specs/ without it is a usage error, whatever addopts or
--strict-config say.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

PLUGIN_NAME = "e2e_safety"
PLUGIN_MODULE = "safety.plugin"
#: What the suite imports: absent, pytest is not the project's (`uv run pytest` is).
DEPENDENCIES = ("httpx", "playwright", "schemathesis", "safety")

HOW_TO_TURN_IT_ON = (
    "the production-safety plugin {name} is not active, so nothing would keep the tests in {what} "
    "from writing to a production target. Turn it back on: drop `-p no:{name}` (and `-o addopts=` if you used it "
    "to drop it), unset PYTEST_DISABLE_PLUGIN_AUTOLOAD or add `-p {module}`, and run pytest from the "
    "project's environment (`.tools/bin/uv run pytest`, or `bash scripts/suite`), where the plugin is "
    "installed. `pytest --help` then lists a 'safety' option group."
)


def plugin_active(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether the safety plugin's module is registered, under whatever name (entry point or `-p`)."""
    module = sys.modules.get(PLUGIN_MODULE)
    return module is not None and pluginmanager.is_registered(module)


def _path_of(arg: str, invocation_dir: Path) -> Path | None:
    text = arg.split("::", 1)[0]
    if not text or text.startswith("-"):
        return None
    path = Path(text)
    return (path if path.is_absolute() else invocation_dir / path).resolve()


def suite_args(args: Iterable[str], invocation_dir: Path, suite_dirs: Sequence[Path]) -> list[str]:
    """The arguments that would collect tests of the suite: inside one of `suite_dirs`, or above one."""
    hits = []
    for arg in args:
        path = _path_of(arg, invocation_dir)
        if path is None:
            continue
        if any(path == d or d in path.parents or path in d.parents for d in suite_dirs):
            hits.append(arg)
    return hits


def refusal(what: str) -> pytest.UsageError:
    return pytest.UsageError(HOW_TO_TURN_IT_ON.format(name=PLUGIN_NAME, module=PLUGIN_MODULE, what=what))


def outside_environment(missing: Sequence[str]) -> str:
    return (
        f"this pytest ({sys.executable}) runs outside the project's environment: it cannot import "
        f"{', '.join(missing)}, and without the production-safety plugin {PLUGIN_NAME} nothing would keep "
        "the suite from writing to a production target. Run it from the project's environment: "
        "`.tools/bin/uv run pytest` (after `bash scripts/suite` or `bash scripts/test` set it up), "
        "or `source .venv/bin/activate` first."
    )
