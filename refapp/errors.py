"""The one error shape of the contract, and the handlers that enforce it everywhere.

Every error answer is `{"ok": false, "error": {"code", "message"}}`. Unexpected
exceptions become 500 `internal_error` with a generic message; only the exception's
type name is logged (its text may carry secrets).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from refapp import readings

log = logging.getLogger("refapp")

GENERIC_500 = "Something went wrong inside the service."


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(code)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


def error_body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    if readings.other("other_error_messages"):
        message = f"Refused ({code}): {message}"
    error: dict[str, Any] = {"code": code, "message": message, **(extra or {})}
    if readings.other("null_contract_names"):
        error.setdefault("executionId", None)
    return {"ok": False, "error": error}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, extra), status_code=status, headers=headers)


def unauthorized() -> ApiError:
    return ApiError(401, "unauthorized", "Authentication is required.")


def not_found() -> ApiError:
    return ApiError(404, "not_found", "Not found.")


def invalid_body(message: str = "The request body must be a JSON object.") -> ApiError:
    return ApiError(400, "invalid_body", message)


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


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if exc.status == 404 and _is_broken(request, "error_ok_missing"):
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=404)
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers, extra=exc.extra)


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
    app.add_exception_handler(ApiError, _api_error)
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
