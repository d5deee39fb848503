"""refapp/errors.py: the one place that answers the services' refusals in the contract's error shape."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from refapp import refusals
from refapp.config import Settings
from refapp.errors import ANSWERS, answer_to, install_handlers
from refapp.refusals import InvalidBody, NotFound, RateLimited, Refused

ALL_REFUSALS = [
    kind
    for kind in vars(refusals).values()
    if isinstance(kind, type) and issubclass(kind, Refused) and kind is not Refused
]


def test_every_refusal_has_an_answer() -> None:
    missing = [kind.__name__ for kind in ALL_REFUSALS if kind not in ANSWERS]
    assert not missing, f"refapp/errors.py ANSWERS has no answer for the refusals {missing}"


@pytest.mark.parametrize(
    ("refusal", "status", "code"),
    [
        (refusals.InvalidBody(), 400, "invalid_body"),
        (refusals.InvalidQuery("status must be queued or done."), 400, "invalid_query"),
        (refusals.InvalidActionKey(), 400, "invalid_action_key"),
        (refusals.InvalidIdempotencyKey(), 400, "invalid_idempotency_key"),
        (refusals.Unauthenticated(), 401, "unauthorized"),
        (refusals.InvalidCredentials(), 401, "invalid_credentials"),
        (refusals.NotFound(), 404, "not_found"),
        (refusals.IdempotencyKeyInFlight(), 409, "idempotency_key_in_flight"),
        (refusals.IdempotencyKeyReused(), 422, "idempotency_key_reused"),
        (refusals.RateLimited(5), 429, "rate_limited"),
    ],
)
def test_the_contract_codes(refusal: Refused, status: int, code: str) -> None:
    answer = answer_to(refusal)
    assert (answer.status, answer.code) == (status, code)
    assert answer.message, f"{type(refusal).__name__} is answered without a message"


def test_a_refusal_message_wins_over_the_usual_one() -> None:
    assert (
        answer_to(InvalidBody("email and password must be strings.")).message == "email and password must be strings."
    )
    assert answer_to(NotFound()).message == "Not found."


def test_rate_limited_carries_retry_after_only_when_it_knows_it() -> None:
    assert answer_to(RateLimited(17)).headers == {"Retry-After": "17"}
    assert answer_to(RateLimited(None)).headers == {}
    assert answer_to(NotFound()).headers == {}


def test_a_refusal_without_an_answer_is_named() -> None:
    class Unmapped(Refused):
        pass

    with pytest.raises(LookupError, match="Unmapped"):
        answer_to(Unmapped())


def _client(settings: Settings, refusal: Refused) -> TestClient:
    app = FastAPI()
    app.state.settings = settings
    install_handlers(app)

    @app.get("/refuse")
    async def refuse() -> None:
        raise refusal

    return TestClient(app)


def test_the_handler_answers_the_error_shape_with_the_headers() -> None:
    response = _client(Settings(), RateLimited(3)).get("/refuse")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "ok": False,
        "error": {"code": "rate_limited", "message": answer_to(RateLimited(3)).message},
    }


def test_the_handler_keeps_the_broken_build_error_ok_missing() -> None:
    body = _client(Settings(broken="error_ok_missing"), NotFound()).get("/refuse").json()
    assert body == {"error": {"code": "not_found", "message": "Not found."}}
    healthy = _client(Settings(), NotFound()).get("/refuse").json()
    assert healthy == {"ok": False, "error": {"code": "not_found", "message": "Not found."}}
