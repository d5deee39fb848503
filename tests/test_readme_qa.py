"""The README's QA recipe works as written: it sets every variable a staging run reads, explains
each one, and names none the harness does not read (safety/variables.py)."""

from __future__ import annotations

import re
from pathlib import Path

from safety.variables import ENV_VARIABLES, HARNESS_ENV, unknown_variables

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: What a staging run with one account reads: the recipe must set (or offer) each of them.
QA_VARIABLES = {
    "E2E_SAFE_HOSTS",
    "E2E_EMAIL",
    "E2E_PASSWORD",
    "E2E_CRON_SECRET",
    "E2E_EMAIL_2",
    "E2E_PASSWORD_2",
    "E2E_STRICT",
    "E2E_FUZZ_SHARED_EXECUTES",
}
#: The misspelling the section shows as an example of the header's hint, with its correction.
EXAMPLE_TYPO = ("E2E_SAFE_HOST", "E2E_SAFE_HOSTS")
_NAME = re.compile(r"\bE2E_[A-Z0-9_]*[A-Z0-9]\b")


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### QA against staging\n")
    end = text.index("\n## ", start)
    next_heading = text.find("\n### ", start + 1)
    return text[start : min(end, next_heading) if next_heading != -1 else end]


def _recipe() -> str:
    """The recipe's shell block: the first ```bash block of the section."""
    section = _section()
    start = section.index("```bash\n") + len("```bash\n")
    return section[start : section.index("```", start)]


def _exported(recipe: str) -> set[str]:
    return set(re.findall(r"^#? ?export (E2E_[A-Z0-9_]+)=", recipe, flags=re.MULTILINE))


def _table(section: str) -> set[str]:
    rows = [line for line in section.splitlines() if line.startswith("| `E2E_")]
    return {name for row in rows for name in _NAME.findall(row.split("|")[1])}


def test_the_recipe_sets_every_variable_a_staging_run_reads() -> None:
    recipe = _recipe()
    assert _exported(recipe) >= QA_VARIABLES, f"the recipe does not set {sorted(QA_VARIABLES - _exported(recipe))}"


def test_every_variable_the_recipe_sets_is_explained_in_its_table() -> None:
    exported, explained = _exported(_recipe()), _table(_section())
    assert exported == explained, (
        f"set but not explained: {exported - explained}; explained, not set: {explained - exported}"
    )


def test_every_variable_the_section_names_is_read_by_the_harness() -> None:
    named = set(_NAME.findall(_section())) - {EXAMPLE_TYPO[0]}
    known = {v.name for v in ENV_VARIABLES}
    assert named, "the scan found the variables"
    assert named <= known, f"named in the README's QA section, unknown to safety/variables.py: {named - known}"
    # The ones that steer a run are scrubbed from inner runs: a QA export cannot leak into them.
    steering = {v.name for v in ENV_VARIABLES if v.steers}
    assert named & steering <= set(HARNESS_ENV)
    assert {"E2E_SAFE_HOSTS", "E2E_EMAIL", "E2E_PASSWORD", "E2E_EMAIL_2", "E2E_PASSWORD_2", "E2E_STRICT"} <= set(
        HARNESS_ENV
    )


def test_the_recipe_runs_the_suite_script_on_two_workers_against_a_base_url() -> None:
    commands = [line for line in _recipe().splitlines() if line and not line.startswith(("export", "#"))]
    assert commands == ["bash scripts/suite --base-url https://staging.example.com -n 2"], commands
    assert (ROOT / "scripts" / "suite").is_file()


def test_the_section_says_what_a_partial_run_means_and_how_long_a_run_takes() -> None:
    section = _section()
    assert "PARTIAL" in section and "did not test" in section
    assert re.search(r"about \d+ to \d+ minutes at `-n 2`", section), "the QA section says how long a run takes"


def test_each_variable_is_listed_once() -> None:
    """Two entries for one name (say after a merge) would show it twice in --help and hints."""
    names = [v.name for v in ENV_VARIABLES]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


def test_the_sections_misspelling_example_is_what_the_header_says() -> None:
    typo, meant = EXAMPLE_TYPO
    assert f'`{typo}` -> "did you mean {meant}?"' in _section()
    assert unknown_variables({typo: "x"}) == [(typo, meant)]
