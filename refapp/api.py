"""The JSON API of sections 2 to 8."""

from __future__ import annotations

import hashlib
import hmac
import json
import traceback
from datetime import UTC, datetime
from typing import Any, cast

from fastapi import APIRouter
from sqlalchemy import delete, or_, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from refapp import __version__, actions, cron, fixtures, idempotency, ratelimit, readings
from refapp.auth import (
    Caller,
    clear_session_cookie,
    new_token,
    request_token,
    resolve_caller,
    set_session_cookie,
    token_hash,
    verify_password,
)
from refapp.config import Settings
from refapp.db import Database, get_database
from refapp.errors import ApiError, error_response, invalid_body, not_found, unauthorized
from refapp.models import ID_LENGTH, Execution, Lead, NextAction, OpsEvent, RiskFlag, User, UserSession
from refapp.timeutil import iso, utcnow
from refapp.views import event_json, execution_json, lead_json, next_action_json

MAX_BODY_BYTES = 1024 * 1024
EVENT_LIST_LIMIT = 1000
_NO_BODY = object()

router = APIRouter()
fixtures_router = APIRouter()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


async def read_json(request: Request, *, empty: object = _NO_BODY, whitespace_is_empty: bool = False) -> object:
    """The parsed JSON body. An empty body gives `empty`, or 400 when none is given."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        if readings.other("body_over_1mib_413"):
            raise ApiError(413, "payload_too_large", "The request body is over 1 MiB.")
        raise invalid_body("The request body is too large.")
    content_type = request.headers.get("content-type")
    # Only a type that is sent and is not JSON is refused: a missing one is not a claim.
    if raw and content_type is not None and not _is_json_type(content_type) and readings.other("non_json_415"):
        raise ApiError(415, "unsupported_media_type", "The request body must be sent as application/json.")
    if whitespace_is_empty and readings.other("whitespace_body_empty") and not raw.strip():
        raw = b""
    # Only a body of no bytes is empty: whitespace such as a lone vertical tab is not JSON
    # (JSON's own whitespace around nothing is not a document either), so it is invalid_body.
    if not raw:
        if empty is _NO_BODY:
            raise invalid_body()
        return empty
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        if get_settings(request).is_broken("leak_parser_path"):
            where = traceback.extract_tb(exc.__traceback__)[-1]
            raise invalid_body(f"The request body is not valid JSON: {exc} ({where.filename}:{where.lineno})") from None
        raise invalid_body("The request body is not valid JSON.") from None


def _with_null_error(body: dict[str, Any]) -> dict[str, Any]:
    """A success body; under the other reading it repeats the contract's `error` name as null."""
    if readings.other("null_contract_names"):
        return {**body, "error": None}
    return body


async def current_caller(request: Request) -> Caller:
    token = request_token(request)
    caller = await run_in_threadpool(resolve_caller, get_database(request), token)
    if caller is None:
        if token and get_settings(request).is_broken("leak_token_401"):
            raise ApiError(401, "unauthorized", f"Unknown session token {token}.")
        raise unauthorized()
    return caller


# The broken build `logged_out_events`: tokens remembered at login, which logout never forgets.
_LOGIN_CACHE: dict[str, Caller] = {}


# --- health -----------------------------------------------------------------------


@router.get("/api/health")
async def health(request: Request) -> JSONResponse:
    settings = get_settings(request)
    body: dict[str, Any] = {
        "ok": True,
        "service": "refapp",
        "revision": request.app.state.revision,
        "database": get_database(request).dialect,
        "environment": settings.environment,
    }
    if settings.broken:
        body["broken"] = settings.broken
    if readings.other("health_extra_fields"):
        body.update(version=__version__, time=iso(utcnow()))
    if settings.is_broken("health_status_ok"):
        body = {"status": "ok", **{k: v for k, v in body.items() if k != "ok"}}
    return JSONResponse(_with_null_error(body))


# --- auth -------------------------------------------------------------------------


def _storable(value: str, max_length: int = 1000) -> bool:
    """Whether a lookup value can be sent to the database at all (PostgreSQL refuses NUL)."""
    return "\x00" not in value and len(value) <= max_length


def sign_in(database: Database, email: str, password: str) -> tuple[str, str] | None:
    """(token, user id) for good credentials, else None."""
    if not _storable(email):
        verify_password(None, password)
        return None
    with database.read() as session:
        if readings.other("email_case_sensitive"):
            # Matched exactly: in another case it is another address (fixture e-mails are lower-case).
            match = User.email == email.strip()
        else:
            match = User.email == email.strip().lower()
        user = session.execute(select(User).where(match)).scalar_one_or_none()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    token = new_token()
    with database.write() as session:
        if readings.other("login_ends_sessions"):
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=utcnow()))
    return token, user.id


def _email_known(database: Database, email: str) -> bool:
    with database.read() as session:
        return session.execute(select(User.id).where(User.email == email.strip().lower())).first() is not None


@router.post("/api/auth/login")
async def login(request: Request) -> Response:
    settings = get_settings(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise invalid_body()
    if settings.is_broken("login_unknown_field_400") and set(body) - {"email", "password"}:
        raise invalid_body("Only email and password may be sent.")
    email, password = body.get("email"), body.get("password")
    checked = email if not settings.is_broken("login_nonstring_500") else ""  # email "is always a string"
    if not isinstance(checked, str) or not isinstance(password, str):
        raise invalid_body("email and password must be strings.")
    found = await run_in_threadpool(sign_in, get_database(request), cast(str, email), password)
    if found is None:
        if settings.is_broken("leak_password_login"):
            raise ApiError(401, "invalid_credentials", f"No account matches {email} with password {password}.")
        if settings.is_broken("wrong_password_403") and await run_in_threadpool(
            _email_known, get_database(request), str(email)
        ):
            raise ApiError(403, "wrong_password", "The password is wrong.")
        raise ApiError(401, "invalid_credentials", "The email or password is wrong.")
    token, user_id = found
    if settings.is_broken("logged_out_events"):
        _LOGIN_CACHE[token] = Caller(user_id=user_id, session_id="")
    answer: dict[str, Any] = {"ok": True, "token": token}
    if readings.other("login_extra_fields"):
        answer.update(user={"id": user_id}, expiresAt=None)
    response = JSONResponse(_with_null_error(answer))
    set_session_cookie(response, token, secure=request.url.scheme == "https")
    for fault, cookie in (
        ("cookie_no_httponly", f"session={token}; Path=/; SameSite=Lax"),
        ("cookie_samesite_none", f"session={token}; HttpOnly; Path=/; SameSite=None"),
        ("cookie_path_api", f"session={token}; HttpOnly; Path=/api; SameSite=Lax"),
    ):
        if settings.is_broken(fault):
            response.headers["set-cookie"] = cookie
    return response


def _logout(database: Database, caller: Caller) -> None:
    with database.write() as session:
        session.execute(delete(UserSession).where(UserSession.id == caller.session_id))


@router.post("/api/auth/logout")
async def logout(request: Request) -> Response:
    caller = await current_caller(request)
    via_cookie = not request.headers.get("authorization")
    if not (via_cookie and get_settings(request).is_broken("logout_cookie_survives")):
        await run_in_threadpool(_logout, get_database(request), caller)
    if readings.other("logout_keeps_cookie"):
        return JSONResponse({"loggedOut": True})
    response = JSONResponse({"ok": True})
    clear_session_cookie(response, secure=request.url.scheme == "https")
    return response


# --- next actions and leads -------------------------------------------------------


def _list_next_actions(
    database: Database, user_id: str, status: str, snoozed: bool, settings: Settings | None = None
) -> Any:
    now = utcnow()
    query = select(NextAction).where(NextAction.user_id == user_id, NextAction.status == status)
    if settings is not None and settings.is_broken("list_all_users"):
        query = select(NextAction).where(NextAction.status == status)
    if settings is not None and settings.is_broken("no_status_lists_all") and status == "":
        query = select(NextAction).where(NextAction.user_id == user_id)
    if settings is not None and settings.is_broken("done_excludes_snoozed"):
        query = query.where(or_(NextAction.snoozed_until.is_(None), NextAction.snoozed_until <= now))
    if status in ("queued", "") and not snoozed:
        query = query.where(or_(NextAction.snoozed_until.is_(None), NextAction.snoozed_until <= now))
    if readings.other("newest_first_next_actions"):
        query = query.order_by(NextAction.created_at.desc(), NextAction.id.desc())
    else:
        query = query.order_by(NextAction.created_at, NextAction.id)
    with database.read() as session:
        return [next_action_json(nba) for nba in session.execute(query).scalars()]


def list_next_action_rows(database: Database, user_id: str, status: str) -> list[dict[str, Any]]:
    """The caller's list as the API answers it (for the server-rendered UI of the other reading)."""
    items: list[dict[str, Any]] = _list_next_actions(database, user_id, status, False)
    return items


@router.get("/api/next-actions")
async def list_next_actions(request: Request) -> JSONResponse:
    caller = await current_caller(request)
    statuses = request.query_params.getlist("status")
    if len(statuses) > 1 and readings.other("repeated_status_400"):
        raise ApiError(400, "invalid_query", "status may be given once.")
    status = request.query_params.get("status", "queued")
    settings = get_settings(request)
    if settings.is_broken("no_status_lists_all") and "status" not in request.query_params:
        status = ""  # "no filter"; the snooze rule below still applies
    if settings.is_broken("status_case_insensitive"):
        status = status.lower()
    if settings.is_broken("empty_status_default"):
        status = status or "queued"
    if status not in ("queued", "done") and not (status == "" and settings.is_broken("no_status_lists_all")):
        raise ApiError(400, "invalid_query", "status must be queued or done.")
    snoozed = settings.is_broken("list_snoozed")
    items = await run_in_threadpool(
        _list_next_actions, get_database(request), caller.user_id, status, snoozed, settings
    )
    return JSONResponse({"items": items})


def _owned_next_action(database: Database, settings: Settings, user_id: str, nba_id: str) -> Any:
    if not _storable(nba_id, ID_LENGTH):
        raise not_found()
    with database.read() as session:
        nba = session.get(NextAction, nba_id)
        if nba is None:
            if settings.is_broken("leak_sql_404"):
                raise ApiError(
                    404,
                    "not_found",
                    f"No row for SELECT next_actions.id, next_actions.title FROM next_actions "  # noqa: S608 - a message
                    f"WHERE next_actions.id = '{nba_id}'",
                )
            raise not_found()
        if nba.user_id != user_id:
            if settings.is_broken("other_user_403"):
                raise ApiError(403, "forbidden", "This next action belongs to another user.")
            raise not_found()
        return nba


@router.get("/api/next-actions/{nba_id}")
async def get_next_action(request: Request, nba_id: str) -> JSONResponse:
    caller = await current_caller(request)
    settings = get_settings(request)
    nba = await run_in_threadpool(_owned_next_action, get_database(request), settings, caller.user_id, nba_id)
    body = next_action_json(nba)
    if settings.is_broken("by_id_hides_snoozed") and nba.snoozed_until is not None:
        until = nba.snoozed_until if nba.snoozed_until.tzinfo else nba.snoozed_until.replace(tzinfo=UTC)
        if until > utcnow():
            raise not_found()
    if settings.is_broken("naive_times"):
        # Printed from a naive datetime: no offset, no Z.
        for name in ("snoozedUntil", "lastExecutedAt"):
            if isinstance(body.get(name), str):
                body[name] = body[name].removesuffix("Z").removesuffix("+00:00")
    return JSONResponse(body)


def _executions(database: Database, settings: Settings, user_id: str, nba_id: str) -> Any:
    if settings.is_broken("other_user_executions"):
        with database.read() as session:
            if session.get(NextAction, nba_id) is None:  # exists, whoever owns it
                raise not_found()
    else:
        _owned_next_action(database, settings, user_id, nba_id)
    which = Execution.next_action_id == nba_id
    if settings.is_broken("executions_by_lead"):
        lead_items = select(NextAction.id).where(
            NextAction.lead_id == select(NextAction.lead_id).where(NextAction.id == nba_id).scalar_subquery()
        )
        which = Execution.next_action_id.in_(lead_items)
    with database.read() as session:
        order = (Execution.started_at.desc(), Execution.finished_at.desc())
        if settings.is_broken("executions_oldest_first"):
            order = (Execution.started_at.asc(), Execution.finished_at.asc())
        rows = session.execute(select(Execution).where(which).order_by(*order)).scalars()
        items = [execution_json(row) for row in rows]
    if settings.is_broken("epoch_times"):
        # Times as epoch milliseconds (what a JavaScript Date.getTime() gives), not ISO 8601.
        for item in items:
            for name in ("startedAt", "finishedAt"):
                if isinstance(item.get(name), str):
                    item[name] = round(datetime.fromisoformat(item[name].replace("Z", "+00:00")).timestamp() * 1000)
    return items


def _next_action_exists(database: Database, nba_id: str) -> bool:
    if not _storable(nba_id, ID_LENGTH):
        return False
    with database.read() as session:
        return session.get(NextAction, nba_id) is not None


@router.get("/api/next-actions/{nba_id}/executions")
async def list_executions(request: Request, nba_id: str) -> JSONResponse:
    if get_settings(request).is_broken("executions_id_before_auth"):
        known = await run_in_threadpool(_next_action_exists, get_database(request), nba_id)
        if not known:
            raise not_found()
    caller = await current_caller(request)
    items = await run_in_threadpool(_executions, get_database(request), get_settings(request), caller.user_id, nba_id)
    return JSONResponse({"items": items})


def _lead(database: Database, user_id: str, lead_id: str, *, any_owner: bool = False) -> Any:
    if not _storable(lead_id, ID_LENGTH):
        raise not_found()
    with database.read() as session:
        lead = session.get(Lead, lead_id)
        if lead is None or (lead.user_id != user_id and not any_owner):
            raise not_found()
        flags = list(
            session.execute(
                select(RiskFlag).where(RiskFlag.lead_id == lead_id).order_by(RiskFlag.created_at, RiskFlag.code)
            ).scalars()
        )
        if readings.other("risk_flags_reversed"):
            flags.reverse()
        return lead_json(lead, flags)


def lead_view(database: Database, user_id: str, lead_id: str) -> dict[str, Any]:
    """The lead as the API answers it; raises ApiError 404 (for the server-rendered UI)."""
    body: dict[str, Any] = _lead(database, user_id, lead_id)
    return body


@router.get("/api/leads/{lead_id}")
async def get_lead(request: Request, lead_id: str) -> JSONResponse:
    caller = await current_caller(request)
    any_owner = get_settings(request).is_broken("other_user_lead_visible")
    body = await run_in_threadpool(lambda: _lead(get_database(request), caller.user_id, lead_id, any_owner=any_owner))
    if get_settings(request).is_broken("lead_score_string"):
        body["score"] = str(body["score"])  # a NUMERIC column printed as text
    return JSONResponse(body)


# --- execute ----------------------------------------------------------------------


def _parse_action_key(body: object, settings: Settings) -> str:
    if not isinstance(body, dict):
        if settings.is_broken("bad_body_500") and isinstance(body, list):
            raise TypeError("list indices must be integers or slices, not str")
        raise invalid_body()
    if settings.is_broken("missing_action_key_invalid_body") and "actionKey" not in body:
        raise invalid_body("actionKey is required.")
    action_key = body.get("actionKey")
    if settings.is_broken("action_key_case_insensitive") and isinstance(action_key, str):
        action_key = action_key.lower()
    if not isinstance(action_key, str) or action_key not in actions.ACTION_KEYS:
        raise ApiError(400, "invalid_action_key", "actionKey is not a known action.")
    return action_key


def _idempotency_key(header: str | None, settings: Settings) -> str | None:
    key = header
    if settings.is_broken("empty_key_is_a_key") and key is not None:
        pass  # an empty value is stored as a key like any other
    elif settings.is_broken("empty_key_refused") and key == "":
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must not be empty.")
    elif not key:
        return None
    if settings.is_broken("key_max_64") and len(key) > 64:
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 64 characters.")
    if settings.is_broken("key_case_folded"):
        key = key.lower()
    if settings.is_broken("key_truncated_to_64"):
        key = key[:64]  # a 64-character column that silently truncates
    if settings.is_broken("long_idempotency_key_500") and len(key) > 200:
        raise RuntimeError("idempotency key column overflow")
    if len(key) > idempotency.MAX_KEY_LENGTH:
        if readings.other("long_keys_accepted"):
            # Stored by digest: the column holds 255 characters, and "~" cannot start a hex digest.
            return "~sha256:" + hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()
        raise ApiError(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 255 characters.")
    return key


def _rate_limit_bucket(request: Request, settings: Settings, caller: Caller) -> str:
    if settings.is_broken("xff_budget"):
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return f"xff:{forwarded}"
    if settings.is_broken("budget_per_session"):
        return f"session:{caller.session_id}"
    if settings.is_broken("budget_per_address"):
        return f"address:{request.client.host if request.client else '?'}"
    if settings.is_broken("budget_per_next_action"):
        return f"next-action:{request.path_params.get('nba_id')}"
    return f"user:{caller.user_id}"


# Broken build `logged_out_token_counts`: the limiter's token -> user cache, which logout does not clear.
_LIMITER_TOKEN_CACHE: dict[str, str] = {}


def _charge_cached_token(database: Database, token: str | None) -> None:
    """Broken build `logged_out_token_counts`: a dead token the cache still knows spends its user's budget."""
    user_id = _LIMITER_TOKEN_CACHE.get(token or "")
    if user_id is not None and resolve_caller(database, token) is None:
        ratelimit.hit(database, f"user:{user_id}")  # charged before auth answers 401


def _refund_broken(database: Database, settings: Settings, bucket: str, status: int, replayed: bool) -> None:
    """The broken builds that uncount a request by its answer (a "requests that did no work are free" design)."""
    if (
        (replayed and settings.is_broken("replays_not_counted"))
        or (status == 400 and settings.is_broken("client_errors_not_counted"))
        or (status == 404 and settings.is_broken("not_found_not_counted"))
        or (status == 500 and settings.is_broken("failures_not_counted"))
    ):
        ratelimit.refund(database, bucket)


def _store_early_answer(
    database: Database, settings: Settings, caller: Caller, nba_id: str, key: str | None, error: ApiError
) -> None:
    """The broken builds that store a key with an answer given before step 5."""
    if key and (
        (error.status == 400 and settings.is_broken("invalid_body_uses_key"))
        or (error.status == 404 and settings.is_broken("not_found_uses_key"))
    ):
        body = {"ok": False, "error": {"code": error.code, "message": error.message}}
        idempotency.store(database, caller.user_id, key, nba_id, "", error.status, body)


def _run_without_guard(
    database: Database, settings: Settings, caller: Caller, nba_id: str, action_key: str, key: str
) -> Response:
    """Broken build `no_in_flight_guard`: look the key up, run, then store it (check-then-act, no claim)."""
    stored = idempotency.lookup(database, caller.user_id, key)
    if stored is not None:
        return JSONResponse(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
    outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
    idempotency.store(database, caller.user_id, key, nba_id, action_key, outcome.status, outcome.body)
    return JSONResponse(outcome.body, status_code=outcome.status)


def _run_execute(
    database: Database,
    settings: Settings,
    caller: Caller,
    nba_id: str,
    action_key: str,
    key_header: str | None,
) -> Response:
    if not (settings.is_broken("unknown_id_500") or settings.is_broken("execute_ignores_owner")):
        _owned_next_action(database, settings, caller.user_id, nba_id)  # 4. the id
    key = _idempotency_key(key_header, settings)  # 5. idempotency
    first = {"Idempotent-Replayed": "false"} if readings.other("replayed_false") else None
    if key is None:
        outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
        return JSONResponse(outcome.body, status_code=outcome.status, headers=first)
    if settings.is_broken("no_in_flight_guard"):
        return _run_without_guard(database, settings, caller, nba_id, action_key, key)
    wait = 0.0 if readings.other("in_flight_409") else idempotency.WAIT_SECONDS
    claim = idempotency.claim(
        database, caller.user_id, key, nba_id, action_key, wait_seconds=wait, is_broken=settings.is_broken
    )
    if isinstance(claim, idempotency.Stored):
        if settings.is_broken("replay_executes"):
            outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, None)
            return JSONResponse(outcome.body, status_code=outcome.status, headers={"Idempotent-Replayed": "true"})
        replayed = {} if settings.is_broken("replay_without_header") else {"Idempotent-Replayed": "true"}
        if settings.is_broken("replay_new_execution_id") and "executionId" in claim.body:
            claim = idempotency.with_new_execution_id(claim)
        if settings.is_broken("replay_always_200"):
            return JSONResponse(claim.body, status_code=200, headers=replayed)
        return JSONResponse(claim.body, status_code=claim.status, headers=replayed)
    try:
        outcome = actions.execute(database, settings, caller.user_id, nba_id, action_key, claim.key_id)
    except BaseException:
        idempotency.release(database, claim.key_id)
        raise
    if outcome.status == 500 and settings.is_broken("failed_replay_reruns"):
        idempotency.forget(database, caller.user_id, key)  # "let the client retry a failure"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=first)


@router.post("/api/next-actions/{nba_id}/execute")
async def execute(request: Request, nba_id: str) -> Response:
    database, settings = get_database(request), get_settings(request)
    if settings.is_broken("validate_before_auth"):
        _parse_action_key(await read_json(request, empty=None), settings)
    if settings.is_broken("logged_out_token_counts"):
        await run_in_threadpool(_charge_cached_token, database, request_token(request))
    if settings.is_broken("id_before_auth") and request_token(request) is None:
        await run_in_threadpool(_owned_next_action, database, settings, "", nba_id)
    caller = await current_caller(request)  # 1. auth
    if settings.is_broken("body_before_rate_limit"):
        _parse_action_key(await read_json(request, empty=None), settings)
    bucket = _rate_limit_bucket(request, settings, caller)
    decision = await run_in_threadpool(  # 2. rate limit
        ratelimit.hit, database, bucket, is_broken=settings.is_broken
    )
    if not decision.allowed:
        headers = {}
        if not settings.is_broken("no_retry_after"):
            headers["Retry-After"] = str(decision.retry_after)
        return error_response(429, "rate_limited", "Too many requests; try again later.", headers=headers)
    if settings.is_broken("logged_out_token_counts"):
        _LIMITER_TOKEN_CACHE[request_token(request) or ""] = caller.user_id
    key_header = request.headers.get("idempotency-key")
    if settings.is_broken("replay_before_body_check") and key_header:
        stored = await run_in_threadpool(idempotency.lookup, database, caller.user_id, key_header)
        if stored is not None:  # the key is looked up before steps 3 and 4
            return JSONResponse(stored.body, status_code=stored.status, headers={"Idempotent-Replayed": "true"})
    if settings.is_broken("id_before_body"):
        await run_in_threadpool(_owned_next_action, database, settings, caller.user_id, nba_id)
    empty_body: object = {} if settings.is_broken("empty_body_action_key") else None
    try:
        action_key = _parse_action_key(await read_json(request, empty=empty_body), settings)  # 3. body
        response = await run_in_threadpool(  # 4. id, 5. idempotency, 6. run
            _run_execute,
            database,
            settings,
            caller,
            nba_id,
            action_key,
            key_header,
        )
    except ApiError as error:
        if settings.broken is not None:
            await run_in_threadpool(_store_early_answer, database, settings, caller, nba_id, key_header, error)
            await run_in_threadpool(_refund_broken, database, settings, bucket, error.status, False)
        raise
    if settings.broken is not None:
        replayed = response.headers.get("idempotent-replayed") == "true"
        await run_in_threadpool(_refund_broken, database, settings, bucket, response.status_code, replayed)
    return response


# --- ops events -------------------------------------------------------------------


def _events(database: Database, settings: Settings, user_id: str, event_type: str | None, nba_id: str | None) -> Any:
    if (event_type is not None and not _storable(event_type)) or (nba_id is not None and not _storable(nba_id)):
        return []
    query = select(OpsEvent)
    if not settings.is_broken("events_all_users") and (
        nba_id is None or not settings.is_broken("events_other_users_by_nba")
    ):
        query = query.where(OpsEvent.user_id == user_id)
    if event_type is not None and not settings.is_broken("events_type_filter_ignored"):
        query = query.where(OpsEvent.type == event_type)
    if nba_id is not None and not settings.is_broken("events_nba_filter_ignored"):
        query = query.where(OpsEvent.next_action_id == nba_id)
    if settings.is_broken("events_oldest_first"):
        query = query.order_by(OpsEvent.at, OpsEvent.id).limit(EVENT_LIST_LIMIT)
    else:
        query = query.order_by(OpsEvent.at.desc(), OpsEvent.id.desc()).limit(EVENT_LIST_LIMIT)
    with database.read() as session:
        rows = list(session.execute(query).scalars())
        leads: dict[str, str] = {}
        if readings.other("event_extra_fields"):
            nba_ids = {row.next_action_id for row in rows if row.next_action_id}
            found = session.execute(select(NextAction.id, NextAction.lead_id).where(NextAction.id.in_(nba_ids)))
            leads = {nba_id: lead_id for nba_id, lead_id in found}
        items = [event_json(row, leads.get(row.next_action_id or "")) for row in rows]
        if settings.is_broken("event_carries_email"):
            actor = session.get(User, user_id)
            for item in items:
                item["actor"] = actor.email if actor is not None else None
        return items


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value == "" and readings.other("empty_filter_ignored"):
        return None
    return value


@router.get("/api/ops/events")
async def list_events(request: Request) -> JSONResponse:
    token = request_token(request)
    cached = _LOGIN_CACHE.get(token or "") if get_settings(request).is_broken("logged_out_events") else None
    caller = cached or await current_caller(request)
    items = await run_in_threadpool(
        _events,
        get_database(request),
        get_settings(request),
        caller.user_id,
        _filter(request, "type"),
        _filter(request, "nextActionId"),
    )
    return JSONResponse({"items": items})


# --- cron -------------------------------------------------------------------------


def _cron_authorized(request: Request, secret: str | None) -> bool:
    if not secret:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode(), secret.encode())


def _cron_authorized_broken(request: Request, settings: Settings) -> bool | None:
    """The broken builds' way of checking the cron secret (None: the healthy check decides)."""
    header = request.headers.get("authorization", "")
    value = header.strip().partition(" ")[2].strip()
    if settings.is_broken("cron_secret_prefix") and settings.cron_secret:
        return value.startswith(settings.cron_secret)
    if settings.is_broken("cron_accepts_user_token") and value:
        return resolve_caller(get_database(request), value) is not None or None
    if settings.is_broken("cron_wrong_secret_403") and value and not _cron_authorized(request, settings.cron_secret):
        raise ApiError(403, "forbidden", "The cron secret is wrong.")
    return None


@router.post("/api/cron/background-jobs")
async def background_jobs(request: Request) -> JSONResponse:
    settings = get_settings(request)
    broken_check = await run_in_threadpool(_cron_authorized_broken, request, settings) if settings.broken else None
    if not (broken_check or _cron_authorized(request, settings.cron_secret)):
        raise unauthorized()
    body = await run_in_threadpool(cron.run_background_jobs, get_database(request), settings)
    if settings.is_broken("cron_no_processed_count"):
        body.pop("processed", None)
    return JSONResponse(_with_null_error(body))


# --- fixtures (mounted only when REFAPP_E2E_FIXTURES is on) ------------------------


@fixtures_router.post("/api/e2e/fixtures")
async def create_fixtures(request: Request) -> JSONResponse:
    settings = get_settings(request)
    body_in = await read_json(request, empty={}, whitespace_is_empty=True)
    count, failing = fixtures.parse_fixture_request(body_in, settings.is_broken)
    body = await run_in_threadpool(fixtures.create_fixture, get_database(request), count, failing, settings.is_broken)
    return JSONResponse(body, status_code=201)
