"""Hook module for `st run` on contracts/openapi.yaml: the same users and checks as pytest.

    SCHEMATHESIS_HOOKS=contracts.fuzz.hooks E2E_FUZZ_TARGET=http://127.0.0.1:8000 \\
        st run contracts/openapi.yaml --url http://127.0.0.1:8000 \\
        --exclude-checks unsupported_method,allow_header_conformance \\
        --generation-with-security-parameters false --report vcr,har --report-dir artifacts/fuzz

Importing this module registers the contract checks (`contracts.fuzz.checks`) and an auth
provider that acts as rotating fixtures users (`contracts.fuzz.auth.RotatingFixtureAuth`),
for the target in E2E_FUZZ_TARGET. scripts/bench_fuzz.py uses it.
"""

from __future__ import annotations

import os
from typing import Any

import schemathesis
from schemathesis.generation.case import Case

from contracts.fuzz import checks as _checks  # noqa: F401 - registers the contract checks
from contracts.fuzz.auth import RotatingFixtureAuth, UserPool
from contracts.fuzz.session import free_answer, integral_floats_as_ints

TARGET_ENV = "E2E_FUZZ_TARGET"

_target = os.environ.get(TARGET_ENV)
if _target:
    RotatingFixtureAuth.pool = UserPool(_target)
    # No caching: every case asks the pool, which counts the execute budget per user.
    schemathesis.auth(refresh_interval=None)(RotatingFixtureAuth)


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    """As on the pytest path: send a schema-valid 48.0 for an integer as 48."""
    integral_floats_as_ints(case)


@schemathesis.hook
def filter_failure(context: schemathesis.HookContext, failure: Any, case: Case[Any], response: Any) -> bool:
    """As on the pytest path: where the contract leaves the answer free, only a 5xx fails;
    the user made with every action in `failingActions` answers 500 `execution_failed`."""
    pool = RotatingFixtureAuth.pool
    if (
        pool is not None
        and response is not None
        and response.status_code == 500
        and type(failure).__name__ == "ServerError"
        and b'"execution_failed"' in (response.content or b"")
        and pool.acts_as_failing_user(str(response.request.headers.get("Authorization", "")))
    ):
        return False
    if free_answer(case) is None:
        return True
    return response is not None and response.status_code >= 500
