"""Faults in section 6's effects, audit trail and events, and in sections 7 (ops events) and 8 (cron)."""

from __future__ import annotations

from refapp.faults.fault import Fault

EXECUTE = "contracts/test_execute.py::"
EVENTS = "contracts/test_ops_events.py::"
CRON = "contracts/test_cron.py::"

FAULTS: dict[str, Fault] = {
    # --- 6: the order of checks, the body, the id ----------------------------------------
    "validate_before_auth": Fault(
        "6",
        "execute checks the body before auth (no auth + bad body: 400)",
        (
            EXECUTE + "test_auth_is_checked_before_the_body_and_the_id",
            EXECUTE + "test_auth_is_checked_before_the_body_on_a_real_id",
        ),
    ),
    "id_before_auth": Fault(
        "6",
        "execute looks the id up before auth: an unknown id without credentials answers 404",
        (EXECUTE + "test_auth_is_checked_before_the_body_and_the_id",),
    ),
    "id_before_body": Fault(
        "6",
        "execute looks the id up before it reads the body (unknown id + bad body: 404)",
        (EXECUTE + "test_body_is_checked_before_the_id",),
    ),
    "bad_body_500": Fault(
        "6",
        "a JSON body that is not an object crashes with 500 internal_error",
        (EXECUTE + "test_bad_body_is_invalid_body",),
    ),
    "empty_body_action_key": Fault(
        "6",
        "an empty execute body is read as {} and answers 400 invalid_action_key instead of invalid_body",
        (EXECUTE + "test_bad_body_is_invalid_body[empty]",),
    ),
    "missing_action_key_invalid_body": Fault(
        "6",
        "an object body without actionKey answers 400 invalid_body instead of invalid_action_key",
        (EXECUTE + "test_bad_action_key_is_invalid_action_key[missing]",),
    ),
    "action_key_case_insensitive": Fault(
        "6",
        "actionKey is matched case-insensitively (MARK_DONE runs mark_done)",
        (EXECUTE + "test_bad_action_key_is_invalid_action_key[other-case]",),
    ),
    "unknown_id_500": Fault(
        "6",
        "an unknown id reaches the action and crashes with 500 instead of 404 not_found",
        (EXECUTE + "test_unknown_id_is_not_found",),
    ),
    "execute_ignores_owner": Fault(
        "6",
        "execute runs the action on another user's next action instead of answering 404",
        ("contracts/test_auth.py::test_another_users_id_is_404_like_an_unknown_id[execute]",),
    ),
    # --- 6: the effects, on every run --------------------------------------------------
    "mark_done_toggles": Fault(
        "6",
        "mark_done on a done item puts it back to queued (a toggle)",
        (EXECUTE + "test_mark_done_makes_the_item_done_and_again_leaves_it_done",),
    ),
    "mark_done_completed": Fault(
        "6",
        'mark_done sets the status to "completed" instead of "done"',
        (EXECUTE + "test_mark_done_makes_the_item_done_and_again_leaves_it_done",),
    ),
    "snooze_24_minutes": Fault(
        "6",
        "snooze_1d snoozes for 24 minutes (wrong unit)",
        (EXECUTE + "test_snooze_1d_snoozes_for_24_hours_from_each_request",),
    ),
    "snooze_from_previous": Fault(
        "6",
        "snooze_1d on a snoozed item adds 24 h to the old snoozedUntil instead of to the time of the request",
        (EXECUTE + "test_snooze_1d_snoozes_for_24_hours_from_each_request",),
    ),
    "recompute_sets_risk_time": Fault(
        "6",
        "recompute_score moves the lead's riskEvaluatedAt instead of its scoreUpdatedAt",
        (EXECUTE + "test_two_runs_move_the_lead_times_and_are_listed_newest_first",),
    ),
    "score_time_set_once": Fault(
        "6",
        "recompute_score sets scoreUpdatedAt only when it is null (the first run), not on every run",
        (EXECUTE + "test_lead_times_move_on_every_run",),
        proof="slow",
    ),
    "risk_time_set_once": Fault(
        "6",
        "run_risk_rules sets riskEvaluatedAt only when it is null (the first run), not on every run",
        (EXECUTE + "test_lead_times_move_on_every_run",),
        proof="slow",
    ),
    "regenerate_counts_snoozed": Fault(
        "6",
        "run_next_actions creates nothing when the lead has a queued but snoozed item",
        (EXECUTE + "test_run_next_actions_leaves_a_queued_item_and_keeps_this_one",),
    ),
    "regenerate_copies_status": Fault(
        "6",
        "run_next_actions clones this item as the new one, status included (a done item makes a done one)",
        (EXECUTE + "test_run_next_actions_leaves_a_queued_item_and_keeps_this_one",),
    ),
    "success_without_execution_id": Fault(
        "6",
        'a successful execution answers {"ok": true} without "executionId"',
        (EXECUTE + "test_two_runs_move_the_lead_times_and_are_listed_newest_first",),
    ),
    "stub_not_flagged": Fault(
        "6",
        'retry_failed_deliveries answers without "stubbed": true',
        (EXECUTE + "test_retry_failed_deliveries_is_a_stub_with_its_event",),
    ),
    "stub_enqueues_no_job": Fault(
        "6",
        "retry_failed_deliveries enqueues no job, so cron never emits its retry_job.stub event",
        (CRON + "test_retry_job_is_processed_exactly_once_under_overlap",),
    ),
    # --- 6: the audit trail ------------------------------------------------------------
    "error_not_cleared": Fault(
        "6",
        "a success after a failure leaves lastExecutionErrorCode and lastExecutionErrorMessage set",
        (EXECUTE + "test_audit_trail_across_a_sequence[failure-then-success]",),
    ),
    "last_status_once": Fault(
        "6",
        "lastExecutionStatus is set by the first execution only; later ones leave it",
        (
            EXECUTE + "test_audit_trail_across_a_sequence[failure-then-success]",
            EXECUTE + "test_audit_trail_across_a_sequence[success-then-failure]",
        ),
    ),
    "last_executed_once": Fault(
        "6",
        "lastExecutedAt is set by the first execution only; a later run leaves it outside its own record's times",
        (EXECUTE + "test_audit_trail_across_a_sequence",),
    ),
    "last_executed_before_start": Fault(
        "6",
        "lastExecutedAt is the time the request arrived, before the Execution's startedAt",
        (EXECUTE + "test_two_runs_move_the_lead_times_and_are_listed_newest_first",),
    ),
    "failure_recorded_twice": Fault(
        "6",
        "a failed run writes two Execution records (the attempt and the failure)",
        (EXECUTE + "test_audit_trail_across_a_sequence",),
    ),
    "failed_answer_without_execution_id": Fault(
        "6",
        "the 500 execution_failed answer has no executionId",
        (EXECUTE + "test_failing_action_answers_500_and_records_the_failure",),
    ),
    "executions_oldest_first": Fault(
        "5",
        "GET /api/next-actions/{id}/executions lists the executions oldest first",
        (
            EXECUTE + "test_two_runs_move_the_lead_times_and_are_listed_newest_first",
            EXECUTE + "test_audit_trail_across_a_sequence",
        ),
    ),
    "failed_record_success": Fault(
        "6",
        "a failed run's Execution record has status success (the NBA says failed)",
        (EXECUTE + "test_failing_action_answers_500_and_records_the_failure",),
    ),
    "failed_error_code_null": Fault(
        "6",
        "a failed Execution (and the NBA) has a null errorCode",
        (EXECUTE + "test_failing_action_answers_500_and_records_the_failure",),
    ),
    "leak_secret": Fault(
        "6",
        "a failed execution's errorMessage carries the raw internal error text",
        (EXECUTE + "test_failing_action_answers_500_and_records_the_failure",),
    ),
    # --- 6: the events of an execution -------------------------------------------------
    "failed_emits_executed": Fault(
        "6",
        "a failed execution emits nba.delivery.executed instead of nba.delivery.failed",
        (EVENTS + "test_each_execution_emits_its_event", EVENTS + "test_exactly_one_executed_or_failed_per_execution"),
    ),
    "executed_event_twice": Fault(
        "6",
        "a successful execution emits nba.delivery.executed twice",
        (EVENTS + "test_exactly_one_executed_or_failed_per_execution",),
    ),
    "stub_emits_executed_only": Fault(
        "6",
        "retry_failed_deliveries emits nba.delivery.executed instead of nba.delivery.stubbed",
        (
            EXECUTE + "test_retry_failed_deliveries_is_a_stub_with_its_event",
            EVENTS + "test_each_execution_emits_its_event",
        ),
    ),
    "failed_event_without_next_action": Fault(
        "7",
        "the nba.delivery.failed event has a null nextActionId",
        (EVENTS + "test_each_execution_emits_its_event",),
    ),
    # --- 7: ops events -----------------------------------------------------------------
    "events_oldest_first": Fault(
        "7",
        "ops events are listed oldest first",
        (EVENTS + "test_events_are_newest_first",),
    ),
    "events_type_filter_ignored": Fault(
        "7",
        "the type filter of GET /api/ops/events is ignored",
        (EVENTS + "test_filters_by_type_and_next_action", EVENTS + "test_unknown_type_gives_an_empty_list"),
    ),
    "events_nba_filter_ignored": Fault(
        "7",
        "the nextActionId filter of GET /api/ops/events is ignored",
        (EVENTS + "test_filters_by_type_and_next_action",),
    ),
    "events_all_users": Fault(
        "7",
        "GET /api/ops/events lists every user's events, not only the caller's",
        (EVENTS + "test_another_users_events_are_invisible",),
    ),
    "events_other_users_by_nba": Fault(
        "7",
        "with a nextActionId filter, ops events are not limited to the caller's (another user's are listed)",
        (EVENTS + "test_another_users_events_are_invisible",),
    ),
    "event_carries_email": Fault(
        "7",
        "every ops event carries the user's email address as its actor",
        (EVENTS + "test_events_carry_no_credentials_or_secrets",),
    ),
    # --- 8: cron -----------------------------------------------------------------------
    "cron_accepts_user_token": Fault(
        "8",
        "the cron route also accepts any valid user's bearer token",
        (CRON + "test_a_users_bearer_token_does_not_open_cron",),
    ),
    "cron_secret_prefix": Fault(
        "8",
        "the cron route accepts any bearer value that starts with the secret",
        (CRON + "test_the_secret_must_match_exactly",),
    ),
    "cron_wrong_secret_403": Fault(
        "8",
        "a wrong cron secret answers 403 forbidden instead of 401 unauthorized",
        (CRON + "test_wrong_or_missing_secret_is_unauthorized[wrong]",),
    ),
    "cron_no_processed_count": Fault(
        "8",
        'a cron run that processed answers {"ok": true} without "processed"',
        (CRON + "test_cron_answers_processed_or_locked",),
    ),
    "cron_job_not_marked_done": Fault(
        "8",
        "a processed job is left queued, so every later cron run processes it again",
        (CRON + "test_retry_job_is_processed_exactly_once_under_overlap",),
    ),
    "retry_event_without_next_action": Fault(
        "8",
        "the retry job's nba.delivery.retry_job.stub event has a null nextActionId",
        (CRON + "test_retry_job_is_processed_exactly_once_under_overlap",),
    ),
}
