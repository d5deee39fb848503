"""Faults in section 6's rate limit and idempotency."""

from __future__ import annotations

from refapp.faults.fault import Fault

FAULTS: dict[str, Fault] = {
    "no_retry_after": Fault(
        "6",
        "429 answers carry no Retry-After header",
        ("contracts/test_execute_ratelimit.py::test_21st_request_is_rate_limited_with_retry_after",),
    ),
    "replay_executes": Fault(
        "6",
        "an idempotent replay runs the action again (new execution record)",
        ("contracts/test_idempotency.py::test_replay_answers_the_same_and_runs_nothing",),
    ),
    "xff_budget": Fault(
        "6",
        "the rate-limit budget is keyed by X-Forwarded-For when present",
        ("contracts/test_execute_ratelimit.py::test_forwarded_headers_do_not_change_whose_budget",),
    ),
    "long_idempotency_key_500": Fault(
        "6",
        "an Idempotency-Key of 201..255 characters answers 500",
        ("contracts/test_fuzz_execute.py::test_fuzz_execute",),
        proof="fuzz",
    ),
}
