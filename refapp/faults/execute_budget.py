"""Faults in section 6's rate limit and idempotency."""

from __future__ import annotations

from refapp.faults.fault import Fault

RL = "contracts/test_execute_ratelimit.py::"
IDEM = "contracts/test_idempotency.py::"

FAULTS: dict[str, Fault] = {
    # --- the limit and the window -----------------------------------------------------------
    "rate_limit_21": Fault(
        "6",
        "the limit is off by one: the 21st request inside 60 s passes, the 22nd is 429",
        (RL + "test_21st_request_is_rate_limited_with_retry_after",),
    ),
    "rate_limit_19": Fault(
        "6",
        "the limit is off by one the other way: the 20th request inside 60 s is already 429",
        (RL + "test_21st_request_is_rate_limited_with_retry_after",),
    ),
    "window_in_milliseconds": Fault(
        "6",
        "the window is 60 ms (meant in ms, hits stored in seconds): the limit never bites",
        (RL + "test_21st_request_is_rate_limited_with_retry_after",),
    ),
    "window_in_minutes": Fault(
        "6",
        "the window is 60 minutes while Retry-After says at most 60 s: waiting it out does not work",
        (RL + "test_next_request_passes_after_waiting_retry_after",),
        proof="slow",
    ),
    "fixed_window": Fault(
        "6",
        "the window is the clock minute (it resets on the minute boundary), not any 60 seconds",
        (RL + "test_the_window_slides_across_a_minute_boundary",),
        proof="slow",
    ),
    "body_before_rate_limit": Fault(
        "6",
        "the body is checked before the rate limit: a rate-limited user's bad body answers 400, not 429",
        (RL + "test_rate_limit_is_checked_before_the_body_and_the_id",),
    ),
    # --- Retry-After ------------------------------------------------------------------------
    "no_retry_after": Fault(
        "6",
        "429 answers carry no Retry-After header",
        (RL + "test_21st_request_is_rate_limited_with_retry_after",),
    ),
    "retry_after_in_minutes": Fault(
        "6",
        "Retry-After is the wait in minutes (rounded up, so 1), not in seconds",
        (RL + "test_retry_after_reaches_the_end_of_the_window",),
    ),
    "retry_after_elapsed": Fault(
        "6",
        "Retry-After is the time since the burst's first request, not the time until it leaves the window",
        (RL + "test_retry_after_reaches_the_end_of_the_window",),
    ),
    # --- what spends the budget ---------------------------------------------------------------
    "replays_not_counted": Fault(
        "6",
        "idempotent replays are refunded: they do not spend the rate-limit budget",
        (RL + "test_replays_count",),
    ),
    "client_errors_not_counted": Fault(
        "6",
        "requests answered 400 (invalid_body, invalid_action_key) are refunded",
        (RL + "test_every_answer_counts[invalid-body]", RL + "test_every_answer_counts[invalid-action-key]"),
    ),
    "not_found_not_counted": Fault(
        "6",
        "requests answered 404 not_found are refunded",
        (RL + "test_every_answer_counts[not-found]",),
    ),
    "failures_not_counted": Fault(
        "6",
        "requests answered 500 execution_failed are refunded",
        (RL + "test_every_answer_counts[execution-failed]",),
    ),
    "logged_out_token_counts": Fault(
        "6",
        "a logged-out token's requests still spend its user's budget (the limiter's token cache outlives logout)",
        (RL + "test_logged_out_tokens_do_not_count",),
    ),
    # --- whose budget -----------------------------------------------------------------------
    "budget_per_session": Fault(
        "6",
        "the budget is per session token, not per user: a second login gets a second budget",
        (RL + "test_two_sessions_of_one_user_share_one_budget",),
    ),
    "budget_per_address": Fault(
        "6",
        "the budget is per client address: users behind one address share one budget",
        (RL + "test_users_do_not_share_budgets",),
    ),
    "budget_per_next_action": Fault(
        "6",
        "the budget is per next action, not per user: spreading requests over items escapes the limit",
        (RL + "test_the_budget_spans_all_of_a_users_items",),
    ),
    "xff_budget": Fault(
        "6",
        "the rate-limit budget is keyed by X-Forwarded-For when present",
        (RL + "test_forwarded_headers_do_not_change_whose_budget",),
    ),
    # --- the key's identity and lifetime ----------------------------------------------------
    "key_case_folded": Fault(
        "6",
        "Idempotency-Key values are lower-cased: keys differing only in case are one key",
        (IDEM + "test_a_key_is_the_exact_string_sent",),
    ),
    "key_truncated_to_64": Fault(
        "6",
        "Idempotency-Key values are truncated to 64 characters: keys sharing 64 first characters are one key",
        (IDEM + "test_a_key_is_the_exact_string_sent",),
    ),
    "keys_global": Fault(
        "6",
        "Idempotency-Keys are looked up across all users: another user's key is taken (422)",
        (IDEM + "test_keys_are_per_user",),
    ),
    "empty_key_is_a_key": Fault(
        "6",
        "an empty Idempotency-Key is stored as a key: the second empty-key request is a replay",
        (IDEM + "test_empty_key_counts_as_absent",),
    ),
    "keys_expire_fast": Fault(
        "6",
        "Idempotency-Keys expire after 60 seconds instead of living at least 24 hours",
        (IDEM + "test_a_key_still_replays_after_a_minute",),
        proof="slow",
    ),
    "key_max_64": Fault(
        "6",
        "Idempotency-Keys over 64 characters are refused 400 invalid_idempotency_key",
        (IDEM + "test_replay_answers_the_same_and_runs_nothing",),
    ),
    "empty_key_refused": Fault(
        "6",
        "an empty Idempotency-Key is refused 400 invalid_idempotency_key instead of counting as absent",
        (IDEM + "test_empty_key_counts_as_absent",),
    ),
    "long_idempotency_key_500": Fault(
        "6",
        "an Idempotency-Key of 201..255 characters answers 500",
        ("contracts/test_fuzz_execute.py::test_fuzz_execute",),
        proof="fuzz",
    ),
    # --- which requests use the key ---------------------------------------------------------
    "invalid_body_uses_key": Fault(
        "6",
        "a request answered 400 at step 3 stores its key, so the corrected request is refused 422",
        (IDEM + "test_requests_answered_before_step_5_do_not_use_the_key",),
    ),
    "not_found_uses_key": Fault(
        "6",
        "a request answered 404 at step 4 stores its key, so the key cannot be used on a real item",
        (IDEM + "test_requests_answered_before_step_5_do_not_use_the_key",),
    ),
    "replay_before_body_check": Fault(
        "6",
        "a used key is looked up before the body and the id are checked: a bad request with it is replayed",
        (IDEM + "test_a_request_with_a_used_key_still_passes_steps_1_to_4",),
    ),
    # --- what a replay repeats --------------------------------------------------------------
    "replay_executes": Fault(
        "6",
        "an idempotent replay runs the action again (new execution record)",
        (IDEM + "test_replay_answers_the_same_and_runs_nothing",),
    ),
    "replay_without_header": Fault(
        "6",
        "a replay does not carry Idempotent-Replayed: true",
        (IDEM + "test_replay_answers_the_same_and_runs_nothing",),
    ),
    "replay_new_execution_id": Fault(
        "6",
        "a replay's body carries a new executionId (nothing runs, but the body differs)",
        (IDEM + "test_replay_answers_the_same_and_runs_nothing",),
    ),
    "replay_always_200": Fault(
        "6",
        "a replay of a stored 500 answers 200 (the stored body with the wrong status)",
        (IDEM + "test_a_500_is_replayed_too",),
    ),
    "failed_replay_reruns": Fault(
        "6",
        "a key whose execution failed is forgotten, so the next request with it runs the action again",
        (IDEM + "test_a_500_is_replayed_too",),
    ),
    # --- reuse and concurrency --------------------------------------------------------------
    "reuse_other_action_replays": Fault(
        "6",
        "a key reused with another actionKey (same id) replays the first answer instead of 422",
        (IDEM + "test_key_reused_differently_is_422",),
    ),
    "reuse_other_id_replays": Fault(
        "6",
        "a key reused on another next action (same actionKey) replays the first answer instead of 422",
        (IDEM + "test_key_reused_differently_is_422",),
    ),
    "no_in_flight_guard": Fault(
        "6",
        "a key is looked up, then the action runs, then the key is stored: concurrent requests each run",
        (IDEM + "test_concurrent_requests_with_one_key_run_once",),
    ),
}
