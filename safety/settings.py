"""Read the harness's configuration (CLI, env, ini) into one validated object, or fail with a usage error."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from safety.environment import PROD_ENVIRONMENTS_ENV, prod_environment_names
from safety.hosts import HostPolicy, split_host_list
from safety.override import OVERRIDE_ENV, parse_override
from safety.target import TargetChoice, resolve_target

SAFE_ENV = "E2E_SAFE_HOSTS"
PROD_ENV = "E2E_PROD_HOSTS"


@dataclass(frozen=True, slots=True)
class SafetySettings:
    choice: TargetChoice
    policy: HostPolicy
    override: bool
    override_raw: str | None
    # Environment names (lower case) that make a target production when its /api/health says so.
    prod_environments: frozenset[str] = frozenset({"production"})


def cli_source(invocation_args: Sequence[str], env: Mapping[str, str], value: str | None) -> str:
    """Name where the --base-url option's value came from: the flag, or its PYTEST_BASE_URL default."""
    if value is None:
        return "--base-url"
    given = any(arg == "--base-url" or arg.startswith("--base-url=") for arg in invocation_args)
    if not given and env.get("PYTEST_BASE_URL") == value:
        return "PYTEST_BASE_URL"
    return "--base-url"


def _first_given(sources: Sequence[tuple[Sequence[str], str]]) -> list[tuple[str, str]]:
    """The hosts of the first source that lists any, each with where it came from (CLI > env > ini)."""
    for lines, source in sources:
        hosts = [(h, source) for line in lines for h in split_host_list(line)]
        if hosts:
            return hosts
    return []


def load_policy(
    ini_safe: Sequence[str],
    ini_prod: Sequence[str],
    env: Mapping[str, str] = os.environ,
    cli_safe: Sequence[str] = (),
    cli_prod: Sequence[str] = (),
) -> HostPolicy:
    """The host lists from the command line, the environment and the ini file (raises HostEntryError)."""
    # Safe hosts as pytest-base-url reads its option: --safe-host, else E2E_SAFE_HOSTS, else ini.
    safe = _first_given(
        [(cli_safe, "--safe-host"), ([env.get(SAFE_ENV, "")], SAFE_ENV), (ini_safe, "pytest.ini safe_hosts")]
    )
    # Production hosts fail closed: a listing in any of the three counts.
    prod = [(h, "--prod-host") for line in cli_prod for h in split_host_list(line)]
    prod += [(h, PROD_ENV) for h in split_host_list(env.get(PROD_ENV, ""))]
    prod += [(h, "pytest.ini prod_hosts") for line in ini_prod for h in split_host_list(line)]
    return HostPolicy(safe_hosts=safe, prod_hosts=prod)


def load_settings(
    *,
    cli_value: str | None,
    invocation_args: Sequence[str],
    ini_base_url: str | None,
    ini_safe: Sequence[str],
    ini_prod: Sequence[str],
    cli_safe: Sequence[str] = (),
    cli_prod: Sequence[str] = (),
    ini_prod_environments: Sequence[str] = (),
    env: Mapping[str, str] = os.environ,
) -> SafetySettings:
    """Validate everything up front; every error names the bad value and the fix (ValueError subclasses)."""
    override = parse_override(env.get(OVERRIDE_ENV))
    from_flag = cli_source(invocation_args, env, cli_value) == "--base-url"
    # CLI > the suite's env vars > the option's own env default > ini.
    choice = resolve_target(
        [
            (cli_value if from_flag else None, "--base-url"),
            (env.get("E2E_BASE_URL"), "E2E_BASE_URL"),
            (env.get("PLAYWRIGHT_BASE_URL"), "PLAYWRIGHT_BASE_URL"),
            (env.get("PYTEST_BASE_URL"), "PYTEST_BASE_URL"),
            (ini_base_url, "pytest.ini base_url"),
        ]
    )
    policy = load_policy(ini_safe, ini_prod, env, cli_safe, cli_prod)
    names = [(n, PROD_ENVIRONMENTS_ENV) for n in split_host_list(env.get(PROD_ENVIRONMENTS_ENV, ""))]
    names += [(n, "pytest.ini prod_environments") for line in ini_prod_environments for n in split_host_list(line)]
    return SafetySettings(choice, policy, override, env.get(OVERRIDE_ENV), prod_environment_names(names))
