"""`GET /api/leads/{id}` (section 5): the caller's lead with its risk flags."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import leads
from refapp.db import get_database
from refapp.routes.common import current_caller, get_settings

router = APIRouter()


@router.get("/api/leads/{lead_id}")
async def get_lead(request: Request, lead_id: str) -> JSONResponse:
    caller = await current_caller(request)
    any_owner = get_settings(request).is_broken("other_user_lead_visible")
    body = await run_in_threadpool(
        lambda: leads.lead(get_database(request), caller.user_id, lead_id, any_owner=any_owner)
    )
    if get_settings(request).is_broken("lead_score_string"):
        body["score"] = str(body["score"])  # a NUMERIC column printed as text
    return JSONResponse(body)
