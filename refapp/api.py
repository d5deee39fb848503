"""The JSON API of sections 2 to 8, assembled from the route modules of `refapp/routes/`.

`router` holds every route but the fixtures endpoint; `fixtures_router` holds that one, which
`refapp/app.py` includes only when REFAPP_E2E_FIXTURES is on.
"""

from __future__ import annotations

from fastapi import APIRouter

from refapp.routes import auth, cron, events, execute, fixtures, health, leads, next_actions

router = APIRouter()
# The order the routes were declared in when they shared one module (the paths do not overlap).
for part in (health, auth, next_actions, leads, execute, events, cron):
    router.include_router(part.router)

fixtures_router = APIRouter()
fixtures_router.include_router(fixtures.router)
