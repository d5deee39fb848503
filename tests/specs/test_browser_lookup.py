"""specs/browser.py: which Chromium the specs launch (no browser is started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from specs.browser import (
    ENV_VAR,
    NO_BROWSER_HELP,
    SYSTEM_CHROMIUM_ARGS,
    BrowserChoice,
    BrowserNotFound,
    bundled_candidates,
    find_chromium,
)

BUNDLED = "/home/u/.cache/ms-playwright/chromium-1255/chrome-linux64/chrome"


def fake_fs(*executables: str):  # type: ignore[no-untyped-def]
    present = set(executables)

    def which(name: str) -> str | None:
        for path in present:
            if Path(path).name == name and path.startswith("/usr/bin/"):
                return path
        return None

    def is_executable(path: str) -> bool:
        return path in present

    return {"which": which, "is_executable": is_executable}


def test_playwrights_own_chromium_comes_first_and_needs_no_extra_options() -> None:
    choice = find_chromium({}, [BUNDLED], **fake_fs(BUNDLED, "/usr/bin/chromium"))
    assert choice == BrowserChoice("playwright", None)
    assert choice.launch_args({"headless": True}) == {"headless": True}


def test_chromium_on_path_is_the_fallback_with_its_flags() -> None:
    choice = find_chromium({}, [BUNDLED], **fake_fs("/usr/bin/chromium"))
    assert choice.source == "path"
    assert choice.executable_path == "/usr/bin/chromium"
    assert choice.args == SYSTEM_CHROMIUM_ARGS
    assert "--no-sandbox" in choice.args


def test_other_names_on_path_are_tried() -> None:
    choice = find_chromium({}, [], **fake_fs("/usr/bin/google-chrome"))
    assert choice.executable_path == "/usr/bin/google-chrome"


def test_an_explicit_e2e_chromium_wins_over_everything() -> None:
    fs = fake_fs(BUNDLED, "/usr/bin/chromium", "/opt/chrome/chrome")
    choice = find_chromium({ENV_VAR: "/opt/chrome/chrome"}, [BUNDLED], **fs)
    assert choice.source == "env"
    assert choice.executable_path == "/opt/chrome/chrome"


def test_e2e_chromium_may_be_a_name_on_path() -> None:
    choice = find_chromium({ENV_VAR: "chromium"}, [], **fake_fs("/usr/bin/chromium"))
    assert choice.executable_path == "/usr/bin/chromium"


def test_a_wrong_e2e_chromium_is_an_error_not_a_silent_fallback() -> None:
    with pytest.raises(BrowserNotFound, match=ENV_VAR):
        find_chromium({ENV_VAR: "/nope/chrome"}, [BUNDLED], **fake_fs(BUNDLED))


def test_a_blank_e2e_chromium_counts_as_unset() -> None:
    choice = find_chromium({ENV_VAR: "  "}, [], **fake_fs("/usr/bin/chromium"))
    assert choice.source == "path"


def test_nothing_found_says_how_to_install_one() -> None:
    with pytest.raises(BrowserNotFound) as raised:
        find_chromium({}, [BUNDLED], **fake_fs())
    message = str(raised.value)
    assert message == NO_BROWSER_HELP
    assert "apt-get install chromium" in message
    assert ENV_VAR in message


def test_launch_args_keep_playwrights_options_and_add_the_executable() -> None:
    choice = BrowserChoice("path", "/usr/bin/chromium", ("--no-sandbox", "--disable-gpu"))
    base = {"headless": False, "slow_mo": 100, "args": ["--disable-gpu", "--lang=en"]}
    assert choice.launch_args(base) == {
        "headless": False,
        "slow_mo": 100,
        "executable_path": "/usr/bin/chromium",
        "args": ["--no-sandbox", "--disable-gpu", "--lang=en"],
    }
    assert base["args"] == ["--disable-gpu", "--lang=en"], "the input must not change"


def test_bundled_candidates_include_the_headless_shell(tmp_path: Path) -> None:
    registry = tmp_path / "ms-playwright"
    full = registry / "chromium-1255" / "chrome-linux64" / "chrome"
    shell_dir = registry / "chromium_headless_shell-1255" / "chrome-headless-shell-linux64"
    shell_dir.mkdir(parents=True)
    candidates = bundled_candidates(str(full))
    assert candidates[0] == str(full)
    assert str(shell_dir / "chrome-headless-shell") in candidates


def test_bundled_candidates_of_nothing_is_empty() -> None:
    assert bundled_candidates(None) == []
    assert bundled_candidates("") == []


def test_the_real_filesystem_check_wants_an_executable_file(tmp_path: Path) -> None:
    script = tmp_path / "chromium"
    script.write_text("#!/bin/sh\n")
    with pytest.raises(BrowserNotFound):
        find_chromium({ENV_VAR: str(script)}, [])  # not executable yet
    script.chmod(0o755)
    assert find_chromium({ENV_VAR: str(script)}, []).executable_path == str(script)
    with pytest.raises(BrowserNotFound):
        find_chromium({ENV_VAR: str(tmp_path)}, [])  # a directory
