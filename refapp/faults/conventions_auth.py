"""Faults in sections 1-5: conventions, auth, health, the fixtures endpoint, next actions."""

from __future__ import annotations

from refapp.faults.fault import Fault

FAULTS: dict[str, Fault] = {
    "list_snoozed": Fault(
        "5",
        "the queued list includes snoozed next actions",
        ("contracts/test_next_actions.py::test_snoozed_item_is_hidden_from_queued_but_readable",),
    ),
    "other_user_403": Fault(
        "2",
        "another user's next action answers 403 forbidden instead of 404",
        ("contracts/test_auth.py::test_another_users_id_is_404_like_an_unknown_id",),
    ),
}
