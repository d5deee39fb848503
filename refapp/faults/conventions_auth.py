"""Faults in sections 1-5: conventions, auth, health, the fixtures endpoint, next actions."""

from __future__ import annotations

from refapp.faults.fault import Fault

_CONVENTIONS = "contracts/test_conventions.py::"
_AUTH = "contracts/test_auth.py::"
_HEALTH = "contracts/test_health.py::"
_FIXTURES = "contracts/test_fixtures_endpoint.py::"
_NEXT = "contracts/test_next_actions.py::"
_EXECUTE = "contracts/test_execute.py::"

FAULTS: dict[str, Fault] = {
    "no_date_header": Fault(
        "1",
        "no response carries a Date header (the server's date header is switched off)",
        (
            "contracts/test_conventions.py::test_answers_are_json_with_a_date_header",
            "contracts/test_health.py::test_health_carries_a_date_header",
        ),
    ),
    # --- 1. Conventions ------------------------------------------------------------------
    "leak_sql_404": Fault(
        "1",
        "an unknown next action's 404 message echoes the SQL query it ran",
        (_NEXT + "test_unknown_id_is_not_found",),
    ),
    "leak_traceback_500": Fault(
        "1",
        "a 500 execution_failed message is the action's traceback (the key redacted, the frames left in)",
        (_FIXTURES + "test_failing_actions_make_those_actions_fail",),
    ),
    "leak_parser_path": Fault(
        "1",
        "an invalid_body message for a body that is not JSON echoes the parser's error and its file path",
        (_AUTH + "test_login_bad_body_is_invalid_body", _FIXTURES + "test_bad_body_is_invalid_body"),
    ),
    "leak_password_login": Fault(
        "1",
        "a failed login's message echoes the email and the password sent",
        (_AUTH + "test_wrong_password_and_unknown_email_answer_alike",),
    ),
    "leak_token_401": Fault(
        "1",
        "an unauthorized message echoes the unknown or dead token that was sent",
        (_AUTH + "test_auth_route_rejects_bad_credentials",),
    ),
    "error_ok_missing": Fault(
        "1",
        'a 404 error body has no "ok": false (only the "error" object)',
        (_NEXT + "test_unknown_id_is_not_found",),
    ),
    "text_404": Fault(
        "1",
        "an unknown route answers the framework's text/plain 404, not the JSON error body",
        (_CONVENTIONS + "test_unknown_route_is_a_json_error_with_a_date",),
    ),
    "login_unknown_field_400": Fault(
        "1",
        "login refuses a body with fields other than email and password (400 invalid_body)",
        (_CONVENTIONS + "test_login_ignores_unknown_fields",),
    ),
    "fixtures_unknown_field_400": Fault(
        "1",
        "the fixtures endpoint refuses a body with fields other than nextActions and failingActions",
        (_FIXTURES + "test_unknown_fields_are_ignored",),
    ),
    "epoch_times": Fault(
        "1",
        "the executions list gives startedAt and finishedAt as epoch milliseconds, not ISO 8601",
        (_NEXT + "test_executions_list_holds_only_this_items_runs",),
    ),
    "naive_times": Fault(
        "1",
        "GET /api/next-actions/{id} prints its times without an offset or Z",
        (_NEXT + "test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it",),
    ),
    # --- 2. Auth -------------------------------------------------------------------------
    "cookie_no_httponly": Fault(
        "2",
        "the login's session cookie is not HttpOnly",
        (_AUTH + "test_login_answers_token_and_session_cookie",),
    ),
    "cookie_samesite_none": Fault(
        "2",
        "the login's session cookie is SameSite=None",
        (_AUTH + "test_login_answers_token_and_session_cookie",),
    ),
    "cookie_path_api": Fault(
        "2",
        "the login's session cookie has Path=/api",
        (_AUTH + "test_login_answers_token_and_session_cookie",),
    ),
    "bearer_exact_case": Fault(
        "2",
        'only the exact scheme name "Bearer" is accepted (bearer, BEARER answer 401)',
        (_AUTH + "test_bearer_scheme_name_in_any_case",),
    ),
    "cookie_ignored": Fault(
        "2",
        "the API routes read only the Authorization header: the session cookie gives 401",
        (_AUTH + "test_session_cookie_authenticates",),
    ),
    "logout_cookie_survives": Fault(
        "2",
        "a logout sent with the cookie only clears the cookie: the token stays alive",
        (_AUTH + "test_logged_out_token_is_dead_on_every_route",),
    ),
    "logged_out_events": Fault(
        "2",
        "GET /api/ops/events trusts a token cache filled at login, which logout never clears",
        (_AUTH + "test_logged_out_token_is_dead_on_every_route",),
    ),
    "wrong_password_403": Fault(
        "2",
        "a known email with a wrong password answers 403 wrong_password (an unknown email 401)",
        (_AUTH + "test_wrong_password_and_unknown_email_answer_alike",),
    ),
    "login_nonstring_500": Fault(
        "2",
        "login with a non-string email crashes with 500 instead of 400 invalid_body",
        (_AUTH + "test_login_bad_body_is_invalid_body",),
    ),
    "other_user_403": Fault(
        "2",
        "another user's next action answers 403 forbidden instead of 404",
        (_AUTH + "test_another_users_id_is_404_like_an_unknown_id",),
    ),
    "other_user_lead_visible": Fault(
        "2",
        "GET /api/leads/{id} answers 200 with another user's lead",
        (_AUTH + "test_another_users_id_is_404_like_an_unknown_id",),
    ),
    "other_user_executions": Fault(
        "2",
        "GET /api/next-actions/{id}/executions lists another user's executions",
        (_AUTH + "test_another_users_id_is_404_like_an_unknown_id",),
    ),
    "executions_id_before_auth": Fault(
        "2",
        "the executions route looks the id up before auth: an unknown id without credentials is 404",
        (_AUTH + "test_auth_route_rejects_bad_credentials",),
    ),
    # --- 3. Health -----------------------------------------------------------------------
    "health_status_ok": Fault(
        "3",
        'GET /api/health answers 200 {"status": "ok"}, without "ok": true',
        (_HEALTH + "test_health_answers_ok_without_auth",),
    ),
    # --- 4. Test data --------------------------------------------------------------------
    "fixtures_default_2": Fault(
        "4",
        "the fixtures endpoint makes 2 next actions when nextActions is absent (not 3)",
        (_FIXTURES + "test_creates_a_user_a_lead_and_n_queued_next_actions",),
    ),
    "fixtures_51_accepted": Fault(
        "4",
        "nextActions 51 is accepted (the upper bound is off by one)",
        (_FIXTURES + "test_bad_body_is_invalid_body",),
    ),
    "fixtures_zero_default": Fault(
        "4",
        "nextActions 0 is read as absent (a falsy check) and makes the default 3",
        (_FIXTURES + "test_bad_body_is_invalid_body",),
    ),
    "fixtures_bool_count": Fault(
        "4",
        "nextActions true is accepted as 1 (a bool passes an integer check)",
        (_FIXTURES + "test_bad_body_is_invalid_body",),
    ),
    "fixtures_unknown_key_dropped": Fault(
        "4",
        "an unknown key in failingActions is silently dropped (201) instead of 400 invalid_body",
        (_FIXTURES + "test_bad_body_is_invalid_body",),
    ),
    "fixtures_welcome_item": Fault(
        "4",
        "a fixture user gets one more queued next action (an onboarding item) than the n it asked for",
        (_FIXTURES + "test_creates_a_user_a_lead_and_n_queued_next_actions",),
    ),
    "titles_reused": Fault(
        "4",
        "fixture titles are numbered per call: every call reuses the same titles",
        (_FIXTURES + "test_each_call_is_isolated_and_titles_are_unique",),
    ),
    "titles_numbered": Fault(
        "4",
        'fixture titles end in an unpadded number: "... #1" is contained in "... #10"',
        (_FIXTURES + "test_each_call_is_isolated_and_titles_are_unique",),
    ),
    "failing_ignored": Fault(
        "4",
        "failingActions is accepted but not stored: the actions succeed",
        (_FIXTURES + "test_failing_actions_make_those_actions_fail",),
    ),
    "secret_in_answer": Fault(
        "4",
        "a 500 execution_failed message is the raw internal error text, with sk_live_FIXTURE_SECRET",
        (_FIXTURES + "test_failing_actions_make_those_actions_fail",),
    ),
    # --- 5. Next actions -----------------------------------------------------------------
    "list_snoozed": Fault(
        "5",
        "the queued list includes snoozed next actions",
        (_NEXT + "test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it",),
    ),
    "no_status_lists_all": Fault(
        "5",
        "without a status parameter the list holds done items too (the status filter only when given)",
        (
            "contracts/test_execute.py::test_mark_done_makes_the_item_done_and_again_leaves_it_done",
            _NEXT + "test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it",
        ),
    ),
    "status_case_insensitive": Fault(
        "5",
        "status=QUEUED (another case) is accepted as queued instead of 400 invalid_query",
        (_NEXT + "test_other_status_values_are_invalid_query",),
    ),
    "empty_status_default": Fault(
        "5",
        "an empty status= is read as absent (queued) instead of 400 invalid_query",
        (_NEXT + "test_other_status_values_are_invalid_query",),
    ),
    "done_excludes_snoozed": Fault(
        "5",
        "status=done leaves out done items that are still snoozed",
        (_NEXT + "test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it",),
    ),
    "by_id_hides_snoozed": Fault(
        "5",
        "GET /api/next-actions/{id} answers 404 for a snoozed next action",
        (_NEXT + "test_snoozed_item_is_hidden_from_queued_but_readable_and_done_lists_it",),
    ),
    "executions_by_lead": Fault(
        "5",
        "the executions list of a next action holds every execution on its lead",
        (_NEXT + "test_executions_list_holds_only_this_items_runs",),
    ),
    "lead_score_string": Fault(
        "5",
        'GET /api/leads/{id} gives the score as a string ("57"), not an integer',
        (_NEXT + "test_lead_by_id",),
    ),
    "list_all_users": Fault(
        "5",
        "the next-actions list is not filtered by user: it holds every user's items",
        (_AUTH + "test_lists_hold_only_the_callers_items",),
    ),
}
