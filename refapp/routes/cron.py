"""`POST /api/cron/background-jobs` (section 8): the cron secret, then one run of the jobs."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import cron
from refapp.db import get_database
from refapp.refusals import Unauthenticated
from refapp.routes.common import get_settings, with_null_error

router = APIRouter()


@router.post("/api/cron/background-jobs")
async def background_jobs(request: Request) -> JSONResponse:
    settings = get_settings(request)
    authorization = request.headers.get("authorization", "")
    broken_check = (
        await run_in_threadpool(cron.authorized_broken, get_database(request), settings, authorization)
        if settings.broken
        else None
    )
    if not (broken_check or cron.authorized(authorization, settings.cron_secret)):
        raise Unauthenticated()
    body = await run_in_threadpool(cron.run_background_jobs, get_database(request), settings)
    if settings.is_broken("cron_no_processed_count"):
        body.pop("processed", None)
    return JSONResponse(with_null_error(body))
