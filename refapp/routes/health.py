"""`GET /api/health` (section 3): who is serving, read from no database."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import __version__, readings
from refapp.db import get_database
from refapp.routes.common import get_settings, with_null_error
from refapp.timeutil import iso, utcnow

router = APIRouter()


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
    return JSONResponse(with_null_error(body))
