"""The FastAPI application: create_app(settings) migrates, seeds and wires everything."""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from refapp import api, fixtures, migrate, readings
from refapp.accesslog import AccessLogMiddleware
from refapp.config import Settings
from refapp.db import Database
from refapp.errors import CatchAllMiddleware, install_handlers

log = logging.getLogger("refapp")

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _include_ui(app: FastAPI) -> None:
    """Include refapp.ui's `router` (owned by the UI engineer) when that module exists."""
    if importlib.util.find_spec("refapp.ui") is not None:
        ui = importlib.import_module("refapp.ui")
        app.include_router(ui.router)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def create_app(settings: Settings | None = None, *, run_migrations: bool = True) -> FastAPI:
    settings = settings or Settings.from_env()
    if settings.broken:
        log.warning("running the deliberately broken build %r", settings.broken)
    if settings.readings != readings.DEFAULT:
        log.warning("taking the %r reading at every free point of the contract", settings.readings)
    if run_migrations:
        migrate.upgrade(settings.database_url)
    database = Database(settings.database_url)
    if settings.e2e_email and settings.e2e_password:
        with readings.active(settings.readings):  # the seed's ids and titles follow the reading too
            fixtures.seed_account(database, settings.e2e_email, settings.e2e_password, settings.seed_next_actions)

    app = FastAPI(
        title="NBA reference app",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.database = database
    app.state.revision = migrate.head_revision()
    install_handlers(app)
    app.include_router(api.router)
    if settings.fixtures_enabled:
        app.include_router(api.fixtures_router)
    _include_ui(app)
    app.add_middleware(CatchAllMiddleware)
    if settings.access_log:
        app.add_middleware(AccessLogMiddleware, path=settings.access_log)
    app.add_middleware(readings.ReadingMiddleware, reading=settings.readings)
    return app
