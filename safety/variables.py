"""Every environment variable the harness reads, in one place: `pytest --help`, inner runs, scripts.

`HARNESS_ENV` names the ones that steer a run (its target, the guard, the account it acts as,
the cron secret): an outer run scrubs them before starting an inner pytest run or a benchmark,
so that the inner run does only what it is told.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EnvVariable:
    name: str
    what: str
    #: Whether it changes where a run goes or what it may do there (scrubbed for inner runs).
    steers: bool = True


ENV_VARIABLES: tuple[EnvVariable, ...] = (
    EnvVariable(
        "E2E_BASE_URL", "the deployment under test (after --base-url; then PLAYWRIGHT_BASE_URL, PYTEST_BASE_URL)"
    ),
    EnvVariable("PLAYWRIGHT_BASE_URL", "the deployment under test, if E2E_BASE_URL is unset"),
    EnvVariable("PYTEST_BASE_URL", "the deployment under test, if the two above are unset"),
    EnvVariable("E2E_SAFE_HOSTS", "hosts mutating tests may target, e.g. staging (--safe-host beats it)"),
    EnvVariable("E2E_PROD_HOSTS", "production hosts, subdomains included (merged with --prod-host and prod_hosts)"),
    EnvVariable("E2E_ALLOW_PROD_SCORE", "1/true/yes/on lets mutating tests run on a production target"),
    EnvVariable(
        "E2E_PROD_ENVIRONMENTS",
        "health `environment` names that mean production, besides `production` (also ini prod_environments)",
    ),
    EnvVariable(
        "E2E_SAFETY_CHILD_GUARD",
        "set by the guard for a test's Python child processes, which then carry the guard (safety/child_guard.py)",
    ),
    EnvVariable("E2E_EMAIL", "the shared test account where the target has no POST /api/e2e/fixtures"),
    EnvVariable("E2E_PASSWORD", "that account's password"),
    EnvVariable("E2E_CRON_SECRET", "the target's cron secret (known for the embedded app)"),
    EnvVariable("E2E_EMAIL_2", "a second test account, for the cross-user checks where fixtures are absent"),
    EnvVariable("E2E_PASSWORD_2", "that second account's password"),
    EnvVariable(
        "E2E_STRICT", "1/true/yes/on fails a run that skipped tests for lack of setup (after --e2e-strict; CI gates)"
    ),
    EnvVariable("E2E_CHROMIUM", "the Chromium executable for the browser specs", steers=False),
    EnvVariable("E2E_FUZZ_EXAMPLES", "the fuzzing budget (contracts/FUZZING.md)", steers=False),
    EnvVariable("E2E_FUZZ_SEED", "the fuzzing seed, to reproduce a failure", steers=False),
    EnvVariable(
        "E2E_FUZZ_SHARED_EXECUTES",
        "execute requests the fuzzer may send as the shared E2E_EMAIL account in a run (default 2)",
    ),
    EnvVariable("E2E_FUZZ_ARTIFACTS", "where fuzzing writes failing cases and summaries", steers=False),
    EnvVariable("E2E_FUZZ_TARGET", "the target of `st run` with contracts/fuzz/hooks.py", steers=False),
    EnvVariable("E2E_POSTGRES_URL", "a PostgreSQL server for scripts/contracts_on_postgres.py", steers=False),
)

#: The names of the variables that steer a run: scrub these before an inner run.
HARNESS_ENV: tuple[str, ...] = tuple(v.name for v in ENV_VARIABLES if v.steers)


def help_epilogue() -> list[str]:
    """The lines `pytest --help` ends with: every variable the harness reads."""
    width = max(len(v.name) for v in ENV_VARIABLES)
    return [
        "e2e safety environment variables (command-line options beat them, and they beat pytest.ini):",
        *(f"  {v.name:<{width}}  {v.what}" for v in ENV_VARIABLES),
    ]


#: Every variable name the harness reads.
KNOWN_NAMES: tuple[str, ...] = tuple(v.name for v in ENV_VARIABLES)
#: The prefix of the harness's own variables: an unknown name with it is most likely a typo.
PREFIX = "E2E_"


def unknown_variables(env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    """The E2E_* names in `env` the harness does not read, each with the closest known name (or None)."""
    return [
        (name, next(iter(difflib.get_close_matches(name, KNOWN_NAMES, n=1, cutoff=0.6)), None))
        for name in sorted(env)
        if name.startswith(PREFIX) and name not in KNOWN_NAMES
    ]


def unknown_variable_lines(env: Mapping[str, str]) -> list[str]:
    """Report-header lines naming each unknown E2E_* variable: it is ignored, and what was probably meant."""
    lines = []
    for name, close in unknown_variables(env):
        hint = f"did you mean {close}?" if close else "`pytest --help` lists the variables the harness reads."
        lines.append(f"e2e unknown variable: {name} is set but not read by the harness (ignored): {hint}")
    return lines
