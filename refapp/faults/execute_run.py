"""Faults in section 6's effects, audit trail and events, and in sections 7 (ops events) and 8 (cron)."""

from __future__ import annotations

from refapp.faults.fault import Fault

FAULTS: dict[str, Fault] = {
    "leak_secret": Fault(
        "6",
        "a failed execution's errorMessage carries the raw internal error text",
        ("contracts/test_execute.py::test_failing_action_answers_500_and_records_the_failure",),
    ),
    "validate_before_auth": Fault(
        "6",
        "execute checks the body before auth (no auth + bad body: 400)",
        (
            "contracts/test_execute.py::test_auth_is_checked_before_the_body_and_the_id",
            "contracts/test_execute.py::test_auth_is_checked_before_the_body_on_a_real_id",
        ),
    ),
    "bad_body_500": Fault(
        "6",
        "a JSON body that is not an object crashes with 500 internal_error",
        ("contracts/test_execute.py::test_bad_body_is_invalid_body",),
    ),
}
