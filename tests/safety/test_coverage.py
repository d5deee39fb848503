"""What a run covered, through pytester: the per-section table, skips grouped by what the run
lacked, the PARTIAL / STRICT / COMPLETE last line, --e2e-strict and its precedence, xdist, and
the header's hints for unknown E2E_* variables."""

from __future__ import annotations

import textwrap

import pytest

from safety.coverage import section_of
from safety.skips import SkipCategory, parse, tagged
from tests.safety.stand_in import StandIn

INI = """
[pytest]
addopts = -p no:cacheprovider
prod_hosts = 127.0.0.2
safe_hosts = 127.0.0.3
"""

#: A miniature suite: contracts/test_<module>.py and specs/, as the project lays them out.
AUTH = """
import pytest
from safety.skips import SkipCategory, skip_for_setup

NO_CREDENTIALS = "no account: set E2E_EMAIL and E2E_PASSWORD"

@pytest.fixture
def user():
    skip_for_setup(SkipCategory.NO_CREDENTIALS, NO_CREDENTIALS)

def test_reads(base_url):
    pass

@pytest.mark.mutating
def test_needs_a_user(user):
    pass

@pytest.mark.mutating
@pytest.mark.parametrize("n", [1, 2])
def test_needs_a_user_too(user, n):
    pass

def test_skips_itself():
    pytest.skip("nothing to see on this platform")
"""
CRON = """
import pytest
from safety.skips import SkipCategory, skip_for_setup

@pytest.mark.mutating
def test_cron(base_url):
    skip_for_setup(SkipCategory.NO_CRON_SECRET, "E2E_CRON_SECRET is unset: set it to the cron secret")

def test_cron_read_only():
    pass
"""
SPEC = """
import pytest

@pytest.mark.mutating
def test_clicks(base_url):
    pass
"""
COMPLETE = """
import pytest

@pytest.mark.mutating
def test_writes(base_url):
    pass

def test_reads():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    for folder, name, text in [
        ("contracts", "test_auth.py", AUTH),
        ("contracts", "test_cron.py", CRON),
        ("specs", "test_board.py", SPEC),
    ]:
        (pytester.path / folder).mkdir(exist_ok=True)
        (pytester.path / folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return pytester


def _complete(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "test_health.py").write_text(COMPLETE, encoding="utf-8")
    return pytester


def _last_lines(result: pytest.RunResult) -> tuple[str, str]:
    """(the e2e summary's last line, pytest's own last line)."""
    lines = [line for line in result.stdout.lines if line.strip()]
    return lines[-2], lines[-1]


# --- categories --------------------------------------------------------------------------------


@pytest.mark.parametrize("category", list(SkipCategory))
def test_a_category_survives_pytests_skip_message(category: SkipCategory) -> None:
    assert parse("Skipped: " + tagged(category, "why and how")) == (category, "why and how")


@pytest.mark.parametrize("message", ["Skipped: plain", "Skipped: [not a category] x", "[NO CREDENTIALS] x"])
def test_a_message_without_a_known_category_is_uncategorised(message: str) -> None:
    assert parse(message)[0] is None


@pytest.mark.parametrize(
    ("nodeid", "section"),
    [
        ("contracts/test_conventions.py::test_x", "1 conventions"),
        ("contracts/test_auth.py::test_x[a/b]", "2 auth"),
        ("contracts/test_fixtures_endpoint.py::test_x", "4 fixtures"),
        ("contracts/test_idempotency.py::test_x", "6 execute"),
        ("contracts/test_execute_ratelimit.py::test_x", "6 execute"),
        ("contracts/test_cron.py::test_x", "8 cron"),
        ("contracts/test_fuzz_routes.py::test_fuzz_route", "fuzz"),
        ("contracts/test_new_thing.py::test_x", "contracts (other)"),
        ("specs/test_login.py::test_x", "specs"),
        ("tests/safety/test_x.py::test_x", None),
    ],
)
def test_each_contract_module_maps_to_its_section(nodeid: str, section: str | None) -> None:
    assert section_of(nodeid) == section


# --- the summary --------------------------------------------------------------------------------


def test_summary_counts_each_section_and_groups_skips_by_what_was_lacking(
    suite: pytest.Pytester, local: StandIn
) -> None:
    result = suite.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=3, skipped=5)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*e2e coverage: what ran, what was skipped and why*",
            "section * ran * skipped",
            "2 auth * 1 * 4",
            "8 cron * 1 * 1",
            "specs * 1 * 0",
            "skipped, no credentials: 3 test(s)",
            "  3 x no account: set E2E_EMAIL and E2E_PASSWORD",
            "skipped, no cron secret: 1 test(s)",
            "  1 x E2E_CRON_SECRET is unset: set it to the cron secret",
            "skipped, other: 1 test(s)",
            "  1 x nothing to see on this platform",
        ]
    )
    # The reason is shown once per category, not once per test.
    assert result.stdout.str().count("no account: set E2E_EMAIL") == 1
    ours, pytests = _last_lines(result)
    assert ours.startswith("e2e PARTIAL: 4 mutating test(s) were skipped on ")
    assert "no credentials (3), no cron secret (1)" in ours
    assert "4 mutating skipped (PARTIAL)" in pytests


def test_a_run_that_skipped_nothing_for_lack_of_setup_says_complete(pytester: pytest.Pytester, local: StandIn) -> None:
    result = _complete(pytester).runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=2)
    ours, pytests = _last_lines(result)
    assert ours == "e2e COMPLETE: no test was skipped for lack of setup."
    assert "PARTIAL" not in pytests and "STRICT" not in pytests


def test_mutating_tests_skipped_on_production_are_not_partial_but_named(
    pytester: pytest.Pytester, prod: StandIn
) -> None:
    result = _complete(pytester).runpytest(f"--base-url={prod.url}", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["skipped, target is production: 1 test(s)", "  1 x mutating test skipped: the target*"]
    )
    # -rs shows the category beside the reason.
    result.stdout.fnmatch_lines(["SKIPPED *[[]target is production[]] mutating test skipped*"])
    ours, pytests = _last_lines(result)
    assert ours == "e2e: skipped for lack of setup: target is production (1)."
    assert "PARTIAL" not in pytests


def test_the_harness_own_tests_get_no_coverage_section(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("import pytest\ndef test_a(): pass\ndef test_b(): pytest.skip('not here')\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, skipped=1)
    assert "e2e coverage" not in result.stdout.str()


def test_categories_reach_the_xdist_controller(suite: pytest.Pytester, local: StandIn) -> None:
    result = suite.runpytest_subprocess(f"--base-url={local.url}", "-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=3, skipped=5)
    out = result.stdout.str()
    assert out.count("e2e coverage: what ran") == 1
    result.stdout.fnmatch_lines(["2 auth * 1 * 4", "skipped, no credentials: 3 test(s)", "skipped, other: 1 test(s)"])
    ours, pytests = _last_lines(result)
    assert ours.startswith("e2e PARTIAL: 4 mutating test(s)")
    assert "4 mutating skipped (PARTIAL)" in pytests


# --- strict -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("how", "ini_line", "env", "args"),
    [
        ("flag", "", None, ["--e2e-strict"]),
        ("env", "", "1", []),
        ("ini", "e2e_strict = true\n", None, []),
        ("flag beats env", "", "0", ["--e2e-strict"]),
        ("env beats ini", "e2e_strict = false\n", "yes", []),
    ],
)
def test_strict_fails_a_run_that_skipped_for_lack_of_setup_naming_the_categories(
    suite: pytest.Pytester,
    local: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
    ini_line: str,
    env: str | None,
    args: list[str],
) -> None:
    suite.makeini(INI + ini_line)
    if env is not None:
        monkeypatch.setenv("E2E_STRICT", env)
    result = suite.runpytest(f"--base-url={local.url}", *args)
    result.assert_outcomes(passed=3, skipped=5)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, how
    result.stdout.fnmatch_lines(["e2e strict: on: *"])  # the header says so up front
    ours, pytests = _last_lines(result)
    assert ours.startswith("e2e STRICT: the run FAILS (--e2e-strict / E2E_STRICT): 4 test(s) were skipped")
    assert "no credentials (3), no cron secret (1)" in ours
    assert "4 lacking setup (e2e STRICT)" in pytests


@pytest.mark.parametrize(
    ("ini_line", "env", "args"),
    [("e2e_strict = true\n", "0", []), ("", "1", ["--no-e2e-strict"]), ("", "", [])],
    ids=["env-off-beats-ini", "no-flag-beats-env", "empty-env-is-unset"],
)
def test_strict_off_keeps_the_run_green(
    suite: pytest.Pytester,
    local: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    ini_line: str,
    env: str,
    args: list[str],
) -> None:
    suite.makeini(INI + ini_line)
    monkeypatch.setenv("E2E_STRICT", env)
    result = suite.runpytest(f"--base-url={local.url}", *args)
    assert result.ret == pytest.ExitCode.OK
    assert "e2e STRICT" not in result.stdout.str()


def test_strict_passes_a_run_that_lacked_nothing(pytester: pytest.Pytester, local: StandIn) -> None:
    result = _complete(pytester).runpytest(f"--base-url={local.url}", "--e2e-strict")
    assert result.ret == pytest.ExitCode.OK
    assert _last_lines(result)[0] == "e2e COMPLETE: no test was skipped for lack of setup."


def test_strict_ignores_a_tests_own_skip(pytester: pytest.Pytester, local: StandIn) -> None:
    pytester.makeini(INI)
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "test_health.py").write_text(
        "import pytest\ndef test_a(): pytest.skip('not on this platform')\ndef test_b(): pass\n", encoding="utf-8"
    )
    result = pytester.runpytest(f"--base-url={local.url}", "--e2e-strict")
    assert result.ret == pytest.ExitCode.OK


def test_strict_fails_under_xdist(suite: pytest.Pytester, local: StandIn) -> None:
    result = suite.runpytest_subprocess(f"--base-url={local.url}", "-n", "2", "-p", "xdist", "--e2e-strict")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert _last_lines(result)[0].startswith("e2e STRICT: the run FAILS")


@pytest.mark.parametrize("value", ["2", "maybe", "enabled"])
def test_an_unclear_strict_value_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_ok(): pass")
    monkeypatch.setenv("E2E_STRICT", value)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*E2E_STRICT={value!r} is not a valid value*"])


# --- unknown variables --------------------------------------------------------------------------


def test_an_unknown_variable_is_named_with_the_closest_known_one(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_ok(): pass")
    monkeypatch.setenv("E2E_SAFE_HOST", "staging.example.com")
    monkeypatch.setenv("E2E_PASWORD", "x")
    monkeypatch.setenv("E2E_ZZZZZZZZZZZZZZ", "x")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "e2e unknown variable: E2E_PASWORD is set but not read by the harness (ignored): "
            "did you mean E2E_PASSWORD?",
            "e2e unknown variable: E2E_SAFE_HOST is set but not read by the harness (ignored): "
            "did you mean E2E_SAFE_HOSTS?",
            "e2e unknown variable: E2E_ZZZZZZZZZZZZZZ *`pytest --help` lists the variables*",
        ]
    )


def test_known_variables_get_no_hint(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INI)
    pytester.makepyfile("def test_ok(): pass")
    monkeypatch.setenv("E2E_FUZZ_SEED", "1")
    monkeypatch.setenv("E2E_EMAIL_2", "second@example.com")
    result = pytester.runpytest()
    assert "e2e unknown variable" not in result.stdout.str()


def test_a_failed_test_ran_and_is_counted_as_failed(pytester: pytest.Pytester, local: StandIn) -> None:
    pytester.makeini(INI)
    (pytester.path / "contracts").mkdir()
    (pytester.path / "contracts" / "test_health.py").write_text(
        "def test_a(): pass\ndef test_b(): assert False, 'the answer was wrong'\n", encoding="utf-8"
    )
    result = pytester.runpytest(f"--base-url={local.url}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["3 health * 2 * 0  (1 failed)"])
    assert _last_lines(result)[0] == "e2e COMPLETE: no test was skipped for lack of setup."
