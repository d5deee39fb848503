"""`POST /api/e2e/fixtures` (section 4), mounted only when REFAPP_E2E_FIXTURES is on."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from refapp import fixtures
from refapp.db import get_database
from refapp.routes.common import get_settings, read_json

router = APIRouter()


@router.post("/api/e2e/fixtures")
async def create_fixtures(request: Request) -> JSONResponse:
    settings = get_settings(request)
    body_in = await read_json(request, empty={}, whitespace_is_empty=True)
    count, failing = fixtures.parse_fixture_request(body_in, settings.is_broken)
    body = await run_in_threadpool(fixtures.create_fixture, get_database(request), count, failing, settings.is_broken)
    return JSONResponse(body, status_code=201)
