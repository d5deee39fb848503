"""refapp/execute.py: the execute body (step 3) and the Idempotency-Key (step 5), without HTTP."""

from __future__ import annotations

import pytest

from refapp.actions import ACTION_KEYS
from refapp.config import Settings
from refapp.execute import idempotency_key, parse_action_key
from refapp.idempotency import MAX_KEY_LENGTH
from refapp.refusals import InvalidActionKey, InvalidBody, InvalidIdempotencyKey

HEALTHY = Settings()


@pytest.mark.parametrize("body", [None, [], "recompute_score", 3])
def test_a_body_that_is_not_an_object_is_invalid_body(body: object) -> None:
    with pytest.raises(InvalidBody):
        parse_action_key(body, HEALTHY)


@pytest.mark.parametrize("body", [{}, {"actionKey": "nope"}, {"actionKey": 1}, {"actionKey": "RECOMPUTE_SCORE"}])
def test_no_known_action_key_is_invalid_action_key(body: object) -> None:
    with pytest.raises(InvalidActionKey):
        parse_action_key(body, HEALTHY)


@pytest.mark.parametrize("key", sorted(ACTION_KEYS))
def test_every_action_key_is_read(key: str) -> None:
    assert parse_action_key({"actionKey": key, "extra": True}, HEALTHY) == key


def test_idempotency_keys_of_1_to_255_characters_are_used_as_sent() -> None:
    assert idempotency_key(None, HEALTHY) is None
    assert idempotency_key("", HEALTHY) is None
    assert idempotency_key("Ab", HEALTHY) == "Ab"
    assert idempotency_key("k" * MAX_KEY_LENGTH, HEALTHY) == "k" * MAX_KEY_LENGTH
    with pytest.raises(InvalidIdempotencyKey):
        idempotency_key("k" * (MAX_KEY_LENGTH + 1), HEALTHY)
