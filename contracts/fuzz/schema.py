"""Load `contracts/openapi.yaml` with the run's schemathesis configuration.

The configuration is built in Python (no `schemathesis.toml`, so nothing outside
`contracts/` changes) from `contracts.fuzz.settings`: the budget, the seed, the checks and
the reports.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import schemathesis
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts.fuzz import ARTIFACTS_DIR, OPENAPI_PATH
from contracts.fuzz import checks as _checks  # noqa: F401 - registers the custom checks
from contracts.fuzz.settings import Budget, budget, seed

#: Checks left off, each because the contract leaves that answer free (section 1).
DISABLED_CHECKS = {
    # "the answer to a wrong method on a known path" is free.
    "unsupported_method": "a wrong method on a known path is free (section 1)",
    "allow_header_conformance": "a wrong method on a known path is free (section 1)",
}
#: Not applicable: the contract creates nothing a DELETE could remove; object-level
#: authorization is the hand-written contract tests' job (two fixtures users, section 2).
NOT_APPLICABLE_CHECKS = {
    "use_after_free": "the API has no DELETE",
    "object_level_authorization": "covered by the contract tests with two fixtures users",
}


#: schemathesis' default expected statuses for schema-valid data, plus 422 (see config_dict).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]


def worker_suffix() -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"-{worker}" if worker else ""


def config_dict(
    run_budget: Budget, run_seed: int, *, reports: bool = True, shared_account: bool = False
) -> dict[str, Any]:
    """The schemathesis configuration (the `schemathesis.toml` keys) of a fuzz run.

    `shared_account`: the target has no fixtures endpoint, so the execute operation is
    throttled to 18 requests a minute (for `st run`; the pytest path throttles in the pool).
    """
    checks: dict[str, Any] = {name: {"enabled": False} for name in {**DISABLED_CHECKS, **NOT_APPLICABLE_CHECKS}}
    # A schema-valid execute request can meet an Idempotency-Key that an earlier generated
    # request already used with another id or actionKey: 422 `idempotency_key_reused` is
    # then the contract's answer (section 6), as 409 `idempotency_key_in_flight` may be.
    checks["positive_data_acceptance"] = {"expected-statuses": POSITIVE_STATUSES}
    data: dict[str, Any] = {
        "seed": run_seed,
        "generation": {
            "max-examples": run_budget.examples,
            # Auth is the pool's job (a real token, or none for negative security cases);
            # generated credentials would only test "which of two tokens wins" (free).
            "with-security-parameters": False,
            # No `.hypothesis/` directory in the work tree; E2E_FUZZ_SEED replays a run.
            "database": "none",
        },
        "checks": checks,
        "phases": {"stateful": {"max-steps": max(2, run_budget.stateful_steps)}},
        "request-timeout": 15,
        # No `.schemathesis/` cache directory in the work tree.
        "cache": {"enabled": False},
        # Failing cases must be replayable: real values in curl commands. Tokens and the
        # cron secret are redacted by contracts.fuzz.session instead.
        "output": {"sanitization": {"enabled": False}},
    }
    if shared_account:
        data["operations"] = [
            {"include-operation-id": "executeNextAction", "rate-limit": "18/m"},
        ]
    if reports:
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        data["reports"] = {
            "directory": str(ARTIFACTS_DIR),
            "vcr": {"path": str(ARTIFACTS_DIR / f"cassette{worker_suffix()}.yaml")},
        }
    return data


@functools.cache
def load() -> OpenApiSchema:
    """The contract's document under this run's configuration.

    No schemathesis reports on the pytest path: in schemathesis 4.32 its pytest report writers
    import `allure_commons` whatever format is enabled, and allure is not installed. Failing
    cases are written by `contracts.fuzz.session` instead (one JSON file each, with a curl
    command); `st run` (scripts/bench_fuzz.py) writes VCR/HAR cassettes with `--report`.
    """
    run_budget = budget()
    run_seed, _ = seed()
    data = config_dict(run_budget, run_seed, reports=False)
    config = schemathesis.Config.from_dict(data)
    return schemathesis.openapi.from_path(OPENAPI_PATH, config=config)
