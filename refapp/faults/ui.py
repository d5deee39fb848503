"""Faults in section 9: the UI (the default reading's pages, refapp/ui.py), each caught by a browser spec."""

from __future__ import annotations

from refapp.faults.fault import Fault

_FAILURE = "specs/test_failure_path.py::test_a_failing_action_shows_an_alert_and_records_the_failure"
_NOTHING_EARLY = "specs/test_failure_path.py::test_nothing_says_succeeded_before_a_failing_answer"
_RUNS_AGAIN = "specs/test_failure_path.py::test_a_failed_action_runs_again_on_the_next_click"
# The faked failing answers (specs.helpers.FailingExecute): the same rules on any target.
_FAKED_ALERT = "specs/test_failure_path.py::test_a_faked_failing_answer_shows_an_alert_and_nothing_says_succeeded"
_FAKED_AGAIN = "specs/test_failure_path.py::test_after_a_faked_failing_answer_the_next_click_runs_again"
_DOUBLE_FAILING = "specs/test_double_click.py::test_a_double_click_on_a_failing_action_runs_it_once"
_FAKED_DOUBLE = "specs/test_double_click.py::test_a_double_click_on_a_faked_failing_answer_runs_it_once"
_BUTTONS = "specs/test_action_buttons.py::test_every_item_holds_its_title_and_one_button_per_action"
_OWN_ACTION = "specs/test_action_buttons.py::test_each_button_runs_its_own_action"

FAULTS: dict[str, Fault] = {
    "ui_failure_resends": Fault(
        "9",
        "a click whose answer is a 5xx sends the request once more with a new Idempotency-Key (runs twice)",
        (_FAILURE, _DOUBLE_FAILING, _FAKED_ALERT, _FAKED_DOUBLE),
        proof="spec",
    ),
    "ui_click_during_failure_retried": Fault(
        "9",
        "the button is not disabled while running; a click landing during a run that then fails runs it again",
        (_DOUBLE_FAILING, _FAKED_DOUBLE),
        proof="spec",
    ),
    "ui_failure_as_success": Fault(
        "9",
        'a 500 execution_failed shows "succeeded" (any answer naming an executionId, a 500 too, counts as success)',
        (_FAILURE, _FAKED_ALERT),
        proof="spec",
    ),
    "ui_failure_in_status": Fault(
        "9",
        'the "failed" message goes to the status region, not an alert',
        (_FAILURE, _FAKED_ALERT),
        proof="spec",
    ),
    "ui_optimistic_success": Fault(
        "9",
        'a click shows "succeeded" before the answer arrives (a failure replaces it afterwards)',
        (_NOTHING_EARLY, _FAKED_ALERT),
        proof="spec",
    ),
    "ui_failure_keeps_button_disabled": Fault(
        "9",
        "after a failure the button stays disabled: a later click runs nothing",
        (_RUNS_AGAIN, _FAKED_AGAIN),
        proof="spec",
    ),
    "ui_key_per_button": Fault(
        "9",
        "the Idempotency-Key is derived from the item and the action: a later click on the same button is a replay",
        (_RUNS_AGAIN, _FAKED_AGAIN),
        proof="spec",
    ),
    "ui_swapped_actions": Fault(
        "9",
        'the "Recompute score" and "Run risk rules" buttons send each other\'s action key',
        (_OWN_ACTION,),
        proof="spec",
    ),
    "ui_mark_done_icon_only": Fault(
        "9",
        'the "Mark done" button is an icon whose accessible name is the icon ("\u2713"), not its label',
        (_BUTTONS,),
        proof="spec",
    ),
    "ui_list_unnamed": Fault(
        "9",
        'the queue list has a heading above it but no accessible name "Next actions"',
        (_BUTTONS,),
        proof="spec",
    ),
    "ui_lists_done_items": Fault(
        "9",
        "the queue also lists done items, so a done item is back after a reload",
        ("specs/test_risk_nba.py::test_mark_done_removes_the_item",),
        proof="spec",
    ),
    "ui_next_actions_no_redirect": Fault(
        "9",
        "/next-actions without a session is served (its script shows an alert) instead of redirecting to /login",
        ("specs/test_smoke.py::test_next_actions_without_a_session_lands_on_login",),
        proof="spec",
    ),
    "ui_lead_no_redirect": Fault(
        "9",
        '/leads/{id} without a session is served (it says "Lead not found") instead of redirecting to /login',
        ("specs/test_smoke.py::test_a_lead_page_without_a_session_lands_on_login",),
        proof="spec",
    ),
    "ui_login_no_redirect": Fault(
        "9",
        'a successful sign-in says "Signed in." and stays on /login',
        ("specs/test_login.py::test_signing_in_lands_on_the_queue",),
        proof="spec",
    ),
    "ui_login_failure_not_alert": Fault(
        "9",
        "a wrong password's message goes to the status region, not an alert",
        (
            "specs/test_smoke.py::test_a_wrong_password_shows_an_alert_and_stays_on_login",
            "specs/test_login.py::test_a_wrong_password_for_a_real_account_shows_an_alert",
        ),
        proof="spec",
    ),
    "ui_login_placeholders": Fault(
        "9",
        'the sign-in fields carry placeholders "Email" and "Password" instead of labels',
        ("specs/test_smoke.py::test_the_login_page_has_labelled_fields_and_a_sign_in_button",),
        proof="spec",
    ),
    "ui_lead_name_not_heading": Fault(
        "9",
        'the lead page\'s level-1 heading says "Lead"; the name is a paragraph beneath it',
        ("specs/test_score_intake_leads.py::test_recompute_score_moves_the_score_time_and_the_page_shows_the_score",),
        proof="spec",
    ),
    "ui_flag_codes_humanised": Fault(
        "9",
        'the lead page shows risk flags humanised ("no recent contact"), without their codes',
        ("specs/test_risk_nba.py::test_run_risk_rules_then_the_lead_page_shows_the_evaluation",),
        proof="spec",
    ),
    "ui_no_click_guard": Fault(
        "9",
        "the button stays enabled while its action runs and every click sends a request: a double click runs it twice",
        ("specs/test_double_click.py::test_double_click_runs_the_action_once", _DOUBLE_FAILING, _FAKED_DOUBLE),
        proof="spec",
    ),
    "ui_success_not_said": Fault(
        "9",
        'a success says "<label>: done", without "succeeded"',
        ("specs/test_double_click.py::test_double_click_runs_the_action_once",),
        proof="spec",
    ),
    "ui_cached_items_kept": Fault(
        "9",
        "the queue also renders the items it showed last time: a snoozed or done item stays after a reload",
        ("specs/test_risk_nba.py::test_snooze_1_day_hides_the_item_but_keeps_it_readable",),
        proof="spec",
    ),
    "ui_login_button_label": Fault(
        "9",
        'the sign-in button reads "Log in"',
        ("specs/test_smoke.py::test_the_login_page_has_labelled_fields_and_a_sign_in_button",),
        proof="spec",
    ),
    "ui_flags_unnamed": Fault(
        "9",
        'the lead page\'s flags list has a heading above it but no accessible name "Risk flags"',
        ("specs/test_risk_nba.py::test_run_risk_rules_then_the_lead_page_shows_the_evaluation",),
        proof="spec",
    ),
}
