"""The one error shape of the contract, and the one place that answers every error.

Every error answer is `{"ok": false, "error": {"code", "message"}}`. The services raise the
refusals of `refapp/refusals.py`; `ANSWERS` maps each to its status, code and usual message,
and the handlers installed here turn it into that answer (a 429 also carries `Retry-After`).
The framework's own errors (unknown route, wrong method) are answered in the same shape.
Unexpected exceptions become 500 `internal_error` with a generic message; only the
exception's type name is logged (its text may carry secrets).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refapp import readings
from refapp.refusals import (
    BodyTooLarge,
    Forbidden,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvalidActionKey,
    InvalidBody,
    InvalidCredentials,
    InvalidIdempotencyKey,
    InvalidQuery,
    NotFound,
    RateLimited,
    Refused,
    Unauthenticated,
    UnsupportedMediaType,
    WrongPassword,
)

log = logging.getLogger("refapp")

GENERIC_500 = "Something went wrong inside the service."

#: Each refusal's answer: status, error code, and the message used when the refusal carries none.
ANSWERS: dict[type[Refused], tuple[int, str, str]] = {
    InvalidBody: (400, "invalid_body", "The request body must be a JSON object."),
    InvalidQuery: (400, "invalid_query", "The query is not valid."),
    InvalidActionKey: (400, "invalid_action_key", "actionKey is not a known action."),
    InvalidIdempotencyKey: (400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters."),
    Unauthenticated: (401, "unauthorized", "Authentication is required."),
    InvalidCredentials: (401, "invalid_credentials", "The email or password is wrong."),
    WrongPassword: (403, "wrong_password", "The password is wrong."),
    Forbidden: (403, "forbidden", "Forbidden."),
    NotFound: (404, "not_found", "Not found."),
    IdempotencyKeyInFlight: (
        409,
        "idempotency_key_in_flight",
        "A request with this Idempotency-Key is still being processed.",
    ),
    BodyTooLarge: (413, "payload_too_large", "The request body is over 1 MiB."),
    UnsupportedMediaType: (415, "unsupported_media_type", "The request body must be sent as application/json."),
    IdempotencyKeyReused: (422, "idempotency_key_reused", "This Idempotency-Key was already used for another request."),
    RateLimited: (429, "rate_limited", "Too many requests; try again later."),
}


@dataclass(frozen=True)
class ErrorAnswer:
    """What a refusal is answered with (before the reading shapes the body)."""

    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def answer_to(refusal: Refused) -> ErrorAnswer:
    """The contract's answer to `refusal` (the refusal's own message, else the usual one)."""
    for kind in type(refusal).__mro__:
        if kind in ANSWERS:
            status, code, usual = ANSWERS[kind]
            break
    else:
        raise LookupError(f"The refusal {type(refusal).__name__} has no answer in refapp.errors.ANSWERS.")
    headers: dict[str, str] = {}
    if isinstance(refusal, RateLimited) and refusal.retry_after is not None:
        headers["Retry-After"] = str(refusal.retry_after)
    return ErrorAnswer(status, code, refusal.message or usual, headers)


def error_body(code: str, message: str) -> dict[str, Any]:
    if readings.other("other_error_messages"):
        message = f"Refused ({code}): {message}"
    error: dict[str, Any] = {"code": code, "message": message}
    if readings.other("null_contract_names"):
        error.setdefault("executionId", None)
    return {"ok": False, "error": error}


def error_response(status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


_HTTP_CODES = {
    400: ("invalid_body", "The request is not valid."),
    401: ("unauthorized", "Authentication is required."),
    403: ("forbidden", "Forbidden."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "The request body must be JSON."),
}


def _is_broken(request: Request, name: str) -> bool:
    settings = getattr(request.app.state, "settings", None)
    return settings is not None and bool(settings.is_broken(name))


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    answer = answer_to(exc)
    if answer.status == 404 and _is_broken(request, "error_ok_missing"):
        return JSONResponse({"error": {"code": answer.code, "message": answer.message}}, status_code=404)
    return error_response(answer.status, answer.code, answer.message, headers=answer.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404 and _is_broken(request, "text_404"):
        return PlainTextResponse("Not Found", status_code=404)
    headers = dict(exc.headers or {})
    if status == 405 and readings.other("wrong_method_404"):
        status, headers = 404, {}
    code, message = _HTTP_CODES.get(status, ("http_error", "The request failed."))
    return error_response(status, code, message, headers=headers)


async def _validation_error(_request: Request, _exc: Exception) -> Response:
    return error_response(400, "invalid_body", "The request is not valid.")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Refused, _refused)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class CatchAllMiddleware:
    """Turns any exception that escaped the routes into 500 internal_error.

    Nothing is re-raised, so no stack trace reaches a log or the client.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error("unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path"))
            if started:
                return
            response = error_response(500, "internal_error", GENERIC_500)
            await response(scope, receive, send)
