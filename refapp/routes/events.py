"""`GET /api/ops/events` (section 7): the caller's events, filtered by `type` and `nextActionId`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import accounts, events, readings
from refapp.auth import request_token
from refapp.db import get_database
from refapp.routes.common import current_caller, get_settings

router = APIRouter()


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name)
    if value == "" and readings.other("empty_filter_ignored"):
        return None
    return value


@router.get("/api/ops/events")
async def list_events(request: Request) -> JSONResponse:
    token = request_token(request)
    cached = accounts.LOGIN_CACHE.get(token or "") if get_settings(request).is_broken("logged_out_events") else None
    caller = cached or await current_caller(request)
    items = await run_in_threadpool(
        events.events,
        get_database(request),
        get_settings(request),
        caller.user_id,
        _filter(request, "type"),
        _filter(request, "nextActionId"),
    )
    return JSONResponse({"items": items})
