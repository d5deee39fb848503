"""`POST /api/auth/login` and `POST /api/auth/logout` (section 2): the token and the session cookie."""

from __future__ import annotations

from typing import Any, cast

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from refapp import accounts, readings
from refapp.auth import Caller, clear_session_cookie, set_session_cookie
from refapp.db import get_database
from refapp.refusals import InvalidBody, InvalidCredentials, WrongPassword
from refapp.routes.common import current_caller, get_settings, read_json, with_null_error

router = APIRouter()


@router.post("/api/auth/login")
async def login(request: Request) -> Response:
    settings = get_settings(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise InvalidBody()
    if settings.is_broken("login_unknown_field_400") and set(body) - {"email", "password"}:
        raise InvalidBody("Only email and password may be sent.")
    email, password = body.get("email"), body.get("password")
    checked = email if not settings.is_broken("login_nonstring_500") else ""  # email "is always a string"
    if not isinstance(checked, str) or not isinstance(password, str):
        raise InvalidBody("email and password must be strings.")
    found = await run_in_threadpool(accounts.sign_in, get_database(request), cast(str, email), password)
    if found is None:
        if settings.is_broken("leak_password_login"):
            raise InvalidCredentials(f"No account matches {email} with password {password}.")
        if settings.is_broken("wrong_password_403") and await run_in_threadpool(
            accounts.email_known, get_database(request), str(email)
        ):
            raise WrongPassword("The password is wrong.")
        raise InvalidCredentials("The email or password is wrong.")
    token, user_id = found
    if settings.is_broken("logged_out_events"):
        accounts.LOGIN_CACHE[token] = Caller(user_id=user_id, session_id="")
    answer: dict[str, Any] = {"ok": True, "token": token}
    if readings.other("login_extra_fields"):
        answer.update(user={"id": user_id}, expiresAt=None)
    response = JSONResponse(with_null_error(answer))
    set_session_cookie(response, token, secure=request.url.scheme == "https")
    for fault, cookie in (
        ("cookie_no_httponly", f"session={token}; Path=/; SameSite=Lax"),
        ("cookie_samesite_none", f"session={token}; HttpOnly; Path=/; SameSite=None"),
        ("cookie_path_api", f"session={token}; HttpOnly; Path=/api; SameSite=Lax"),
    ):
        if settings.is_broken(fault):
            response.headers["set-cookie"] = cookie
    return response


@router.post("/api/auth/logout")
async def logout(request: Request) -> Response:
    caller = await current_caller(request)
    via_cookie = not request.headers.get("authorization")
    if not (via_cookie and get_settings(request).is_broken("logout_cookie_survives")):
        await run_in_threadpool(accounts.sign_out, get_database(request), caller)
    if readings.other("logout_keeps_cookie"):
        return JSONResponse({"loggedOut": True})
    response = JSONResponse({"ok": True})
    clear_session_cookie(response, secure=request.url.scheme == "https")
    return response
