"""Which Chromium the browser specs launch, decided without starting anything.

Order: `E2E_CHROMIUM` when set (an explicit choice wins, and a wrong one is an error, never a
silent fallback); then Playwright's own download (`playwright install chromium`); then a
`chromium` (or `chromium-browser`, `google-chrome`) on PATH, launched through
`executable_path` with flags that keep it quiet and working as root in a container.
When none is found the caller fails the run with `NO_BROWSER_HELP`.

Only Chromium is looked up: `--browser firefox|webkit`, `--browser-channel` and a remote
`connect_options` are Playwright's business and are left alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_VAR = "E2E_CHROMIUM"

#: Names tried on PATH, in order.
PATH_NAMES: tuple[str, ...] = ("chromium", "chromium-browser", "google-chrome")

#: Flags for a system Chromium: no sandbox (root in a container), no GPU, no calls home.
SYSTEM_CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

NO_BROWSER_HELP = (
    "no Chromium found for the browser specs. Install one: "
    "`apt-get install chromium` (Debian/Ubuntu; it becomes /usr/bin/chromium), or "
    "`uv run playwright install chromium` where downloads work, or point "
    f"{ENV_VAR} at a Chromium/Chrome executable."
)


class BrowserNotFound(RuntimeError):
    """No usable Chromium; the message says how to get one."""


@dataclass(frozen=True)
class BrowserChoice:
    """Where the Chromium comes from and the launch options it needs on top of Playwright's."""

    source: str  # "env", "playwright" or "path"
    executable_path: str | None  # None: Playwright's own default
    args: tuple[str, ...] = field(default=())

    def launch_args(self, base: Mapping[str, Any]) -> dict[str, Any]:
        """`base` (pytest-playwright's launch options) plus what this choice needs."""
        options = dict(base)
        if self.executable_path is not None:
            options["executable_path"] = self.executable_path
        if self.args:
            extra = [a for a in options.get("args", ()) if a not in self.args]
            options["args"] = [*self.args, *extra]
        return options


def _is_executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find_chromium(
    env: Mapping[str, str],
    bundled: Sequence[str] = (),
    *,
    which: Callable[[str], str | None] = shutil.which,
    is_executable: Callable[[str], bool] = _is_executable,
) -> BrowserChoice:
    """Pick the Chromium to launch.

    `env` is the environment; `bundled` the paths where Playwright's own Chromium would be
    (its `executable_path`, and the headless shell's). Raises BrowserNotFound when nothing
    fits, or when `E2E_CHROMIUM` names something that is not an executable file.
    """
    explicit = env.get(ENV_VAR, "").strip()
    if explicit:
        resolved = explicit if os.sep in explicit else (which(explicit) or explicit)
        if not is_executable(resolved):
            raise BrowserNotFound(
                f"{ENV_VAR}={explicit!r} is not an executable file. Fix or unset it. {NO_BROWSER_HELP}"
            )
        return BrowserChoice("env", resolved, SYSTEM_CHROMIUM_ARGS)
    for path in bundled:
        if path and is_executable(path):
            return BrowserChoice("playwright", None)
    for name in PATH_NAMES:
        found = which(name)
        if found and is_executable(found):
            return BrowserChoice("path", found, SYSTEM_CHROMIUM_ARGS)
    raise BrowserNotFound(NO_BROWSER_HELP)


def bundled_candidates(executable_path: str | None) -> list[str]:
    """Where Playwright's Chromium may be: its full build, and (for headless) the shell build.

    `executable_path` is `playwright.chromium.executable_path`, e.g.
    `~/.cache/ms-playwright/chromium-1255/chrome-linux64/chrome`.
    """
    if not executable_path:
        return []
    candidates = [executable_path]
    parents = Path(executable_path).parents
    if len(parents) >= 3:
        # .../ms-playwright/chromium-1255/chrome-linux64/chrome
        build, registry = parents[1].name, parents[2]
        name, _, revision = build.partition("-")
        if name == "chromium" and revision:
            for shell_dir in sorted(registry.glob(f"chromium_headless_shell-{revision}/*")):
                candidates.append(str(shell_dir / "chrome-headless-shell"))
                candidates.append(str(shell_dir / "headless_shell"))
    return candidates
