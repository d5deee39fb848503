"""`GET /api/next-actions`, `GET /api/next-actions/{id}` and its `/executions` (section 5)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import next_actions, readings
from refapp.db import get_database
from refapp.refusals import InvalidQuery, NotFound
from refapp.routes.common import current_caller, get_settings

router = APIRouter()


@router.get("/api/next-actions")
async def list_next_actions(request: Request) -> JSONResponse:
    caller = await current_caller(request)
    statuses = request.query_params.getlist("status")
    if len(statuses) > 1 and readings.other("repeated_status_400"):
        raise InvalidQuery("status may be given once.")
    status = request.query_params.get("status", "queued")
    settings = get_settings(request)
    if settings.is_broken("no_status_lists_all") and "status" not in request.query_params:
        status = ""  # "no filter"; the snooze rule below still applies
    if settings.is_broken("status_case_insensitive"):
        status = status.lower()
    if settings.is_broken("empty_status_default"):
        status = status or "queued"
    if status not in next_actions.STATUSES and not (status == "" and settings.is_broken("no_status_lists_all")):
        raise InvalidQuery("status must be queued or done.")
    snoozed = settings.is_broken("list_snoozed")
    items = await run_in_threadpool(
        next_actions.list_next_actions, get_database(request), caller.user_id, status, snoozed, settings
    )
    return JSONResponse({"items": items})


@router.get("/api/next-actions/{nba_id}")
async def get_next_action(request: Request, nba_id: str) -> JSONResponse:
    caller = await current_caller(request)
    settings = get_settings(request)
    body = await run_in_threadpool(next_actions.next_action, get_database(request), settings, caller.user_id, nba_id)
    if settings.is_broken("naive_times"):
        # Printed from a naive datetime: no offset, no Z.
        for name in ("snoozedUntil", "lastExecutedAt"):
            if isinstance(body.get(name), str):
                body[name] = body[name].removesuffix("Z").removesuffix("+00:00")
    return JSONResponse(body)


@router.get("/api/next-actions/{nba_id}/executions")
async def list_executions(request: Request, nba_id: str) -> JSONResponse:
    settings = get_settings(request)
    if settings.is_broken("executions_id_before_auth"):
        known = await run_in_threadpool(next_actions.next_action_exists, get_database(request), nba_id)
        if not known:
            raise NotFound()
    caller = await current_caller(request)
    items = await run_in_threadpool(next_actions.executions, get_database(request), settings, caller.user_id, nba_id)
    if settings.is_broken("epoch_times"):
        # Times as epoch milliseconds (what a JavaScript Date.getTime() gives), not ISO 8601.
        for item in items:
            for name in ("startedAt", "finishedAt"):
                if isinstance(item.get(name), str):
                    item[name] = round(datetime.fromisoformat(item[name].replace("Z", "+00:00")).timestamp() * 1000)
    return JSONResponse({"items": items})
