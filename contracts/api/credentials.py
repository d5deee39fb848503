"""The accounts a run may act as where the target has no POST /api/e2e/fixtures, and the one
reason every test that needs one skips with when none is configured.

The reason is one sentence, the same wherever it is raised (contract tests, specs, the fuzzer),
so the end summary shows it once under "no credentials" with the number of tests it cost.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

EMAIL_ENV = "E2E_EMAIL"
PASSWORD_ENV = "E2E_PASSWORD"
EMAIL_2_ENV = "E2E_EMAIL_2"
PASSWORD_2_ENV = "E2E_PASSWORD_2"

NO_CREDENTIALS = (
    f"the target has no POST /api/e2e/fixtures (it answered 404) and {EMAIL_ENV} / {PASSWORD_ENV} are unset: "
    f"set {EMAIL_ENV} and {PASSWORD_ENV} to a test account with queued next actions (README, QA against "
    "staging), or enable POST /api/e2e/fixtures on the target (the reference app: REFAPP_E2E_FIXTURES=1)"
)
NO_SECOND_ACCOUNT = (
    f"needs a second user, and the target has no POST /api/e2e/fixtures (it answered 404): set {EMAIL_2_ENV} "
    f"and {PASSWORD_2_ENV} to a second test account with at least one queued next action, or enable "
    "POST /api/e2e/fixtures on the target (the reference app: REFAPP_E2E_FIXTURES=1)"
)


def account(env: Mapping[str, str] = os.environ, *, second: bool = False) -> tuple[str, str] | None:
    """(email, password) of the shared account (or the second one), or None when either is unset."""
    email = env.get(EMAIL_2_ENV if second else EMAIL_ENV, "")
    password = env.get(PASSWORD_2_ENV if second else PASSWORD_ENV, "")
    return (email, password) if email and password else None
