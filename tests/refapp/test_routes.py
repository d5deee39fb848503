"""The split of refapp: routes speak HTTP, the services they call do not."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from fastapi import APIRouter, FastAPI

from refapp import api

REFAPP = Path(__file__).resolve().parents[2] / "refapp"
#: The service modules: they raise refapp.refusals errors and return data, never HTTP objects.
SERVICES = (
    "accounts",
    "actions",
    "cron",
    "events",
    "execute",
    "fixtures",
    "idempotency",
    "leads",
    "next_actions",
    "ratelimit",
    "refusals",
)
HTTP_PACKAGES = ("fastapi", "starlette", "refapp.errors", "refapp.routes")


@pytest.mark.parametrize("name", SERVICES)
def test_a_service_imports_no_http(name: str) -> None:
    tree = ast.parse((REFAPP / f"{name}.py").read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    http = [module for module in imported if module.split(".")[0] in HTTP_PACKAGES or module.startswith(HTTP_PACKAGES)]
    assert not http, f"refapp/{name}.py is a service but imports HTTP modules {http}"


def _paths(*routers: APIRouter) -> set[str]:
    app = FastAPI()
    for router in routers:
        app.include_router(router)
    return set(app.openapi()["paths"])


def test_the_api_wires_every_route_module() -> None:
    modules = {path.stem for path in (REFAPP / "routes").glob("*.py")} - {"__init__", "common"}
    assert len(modules) == 8, f"refapp/routes/ holds {sorted(modules)}; update this test and refapp/api.py together"
    assert _paths(api.fixtures_router) == {"/api/e2e/fixtures"}
    assert _paths(api.router) == {
        "/api/health",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/next-actions",
        "/api/next-actions/{nba_id}",
        "/api/next-actions/{nba_id}/executions",
        "/api/leads/{lead_id}",
        "/api/next-actions/{nba_id}/execute",
        "/api/ops/events",
        "/api/cron/background-jobs",
    }
