"""contracts/openapi.yaml: valid OpenAPI 3.1, complete, and not contradicted by the reference app."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import schemathesis
import yaml
from schemathesis.specs.openapi.definitions import OPENAPI_31

from contracts.fuzz import OPENAPI_PATH

#: Every route of CONTRACT.md sections 2-8, as (method, path).
CONTRACT_ROUTES = {
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/logout"),
    ("GET", "/api/health"),
    ("POST", "/api/e2e/fixtures"),
    ("GET", "/api/next-actions"),
    ("GET", "/api/next-actions/{id}"),
    ("GET", "/api/next-actions/{id}/executions"),
    ("GET", "/api/leads/{id}"),
    ("POST", "/api/next-actions/{id}/execute"),
    ("GET", "/api/ops/events"),
    ("POST", "/api/cron/background-jobs"),
}
AUTH_ROUTES = CONTRACT_ROUTES - {
    ("POST", "/api/auth/login"),
    ("GET", "/api/health"),
    ("POST", "/api/e2e/fixtures"),
    ("POST", "/api/cron/background-jobs"),
}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return yaml.safe_load(Path(OPENAPI_PATH).read_text())


def _operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): op
        for path, item in doc.get("paths", {}).items()
        for method, op in item.items()
        if method in HTTP_METHODS
    }


def _template(path: str) -> str:
    """`/api/leads/{lead_id}` -> `/api/leads/{}`: parameter names are the app's own business."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_is_valid_openapi_31(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    # The OpenAPI 3.1 meta-schema schemathesis ships (from the OAI repository).
    validator = jsonschema_rs.validator_for(OPENAPI_31)
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(document)]
    assert not errors, "contracts/openapi.yaml is not valid OpenAPI 3.1:\n" + "\n".join(errors)
    # And schemathesis loads it, validates it and finds every operation.
    schema = schemathesis.openapi.from_path(OPENAPI_PATH)
    schema.validate()
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == {f"{m} {p}" for m, p in CONTRACT_ROUTES}


def test_every_contract_route_is_documented(document: dict[str, Any]) -> None:
    operations = _operations(document)
    assert set(operations) == CONTRACT_ROUTES
    assert len({op["operationId"] for op in operations.values()}) == len(operations)


def test_error_answers_use_the_error_body(document: dict[str, Any]) -> None:
    """Every documented 4xx/5xx answer is the section 1 error body, with the contract's 401 code."""
    resolved = _resolve(document, document)
    for (method, path), op in _operations(resolved).items():
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema.get("required") == ["ok", "error"], (method, path, status)
            assert schema["properties"]["ok"] == {"const": False}, (method, path, status)
            if status == "401":
                code = schema["properties"]["error"]["properties"]["code"]["const"]
                expected = "invalid_credentials" if path == "/api/auth/login" else "unauthorized"
                assert code == expected, (method, path)
        if (method, path) in AUTH_ROUTES:
            assert "401" in op["responses"], (method, path)
            assert {"bearerAuth": []} in op["security"] and {"sessionCookie": []} in op["security"]


def test_execute_documents_rate_limit_and_idempotency(document: dict[str, Any]) -> None:
    execute = _resolve(document, document)["paths"]["/api/next-actions/{id}/execute"]["post"]
    retry_after = execute["responses"]["429"]["headers"]["Retry-After"]
    assert retry_after["required"] is True
    pattern = re.compile(retry_after["schema"]["pattern"])
    assert [str(n) for n in range(0, 100) if pattern.search(str(n))] == [str(n) for n in range(1, 61)]
    assert not pattern.search("1.5") and not pattern.search("") and not pattern.search("061")
    key = next(p for p in execute["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is False
    assert key["schema"] == {"type": "string", "maxLength": 255}
    assert "Idempotent-Replayed" in execute["responses"]["200"]["headers"]
    codes = {
        status: response["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]
        for status, response in execute["responses"].items()
        if status in {"400", "404", "409", "422", "429", "500"}
    }
    allowed = {status: set(code["enum"]) if "enum" in code else {code["const"]} for status, code in codes.items()}
    assert allowed == {
        "400": {"invalid_body", "invalid_action_key"},
        "404": {"not_found"},
        "409": {"idempotency_key_in_flight"},
        "422": {"idempotency_key_reused"},
        "429": {"rate_limited"},
        "500": {"execution_failed"},
    }


def test_links_chain_fixtures_to_execute_and_reads(document: dict[str, Any]) -> None:
    links = document["paths"]["/api/e2e/fixtures"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    assert {"executeNextAction", "getNextAction", "listExecutions", "getLead"} <= targets
    after = document["paths"]["/api/next-actions/{id}/execute"]["post"]["responses"]["200"]
    assert {link["operationId"] for link in after["links"].values()} >= {
        "getNextAction",
        "listExecutions",
    }


def _compare_with_app(app_doc: dict[str, Any], ours: dict[str, Any], where: str) -> None:
    app_ops = {(m, _template(p)) for m, p in _operations(app_doc) if p.startswith("/api/")}
    our_ops = {(m, _template(p)) for m, p in _operations(ours)}
    extra = app_ops - our_ops
    assert not extra, f"{where} has API operations contracts/openapi.yaml lacks: {sorted(extra)}"
    missing = our_ops - app_ops - {("POST", "/api/e2e/fixtures")}
    assert not missing, f"{where} lacks contract operations: {sorted(missing)}"


def test_reference_app_served_openapi_agrees(document: dict[str, Any], base_url: str) -> None:
    """The target's own /openapi.json (FastAPI serves one unless disabled) does not contradict ours."""
    if not base_url:
        pytest.skip("no target (no --base-url and no embedded app)")
    url = base_url.rstrip("/") + "/openapi.json"
    with httpx.Client(trust_env=False, timeout=10) as client:
        response = client.get(url)
    if response.status_code == 404:
        pytest.skip(
            f"the target serves no generated OpenAPI document (GET {url} answers 404: the "
            "reference app disables FastAPI's openapi_url); nothing to compare"
        )
    assert response.status_code == 200, f"GET {url} -> {response.status_code}"
    _compare_with_app(response.json(), document, url)


def test_reference_app_generated_openapi_agrees(
    document: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reference app's routes, read in process from FastAPI, match the document's."""
    try:
        from refapp.app import create_app
        from refapp.config import Settings
    except ImportError as error:  # pragma: no cover - refapp is part of this repository
        pytest.skip(f"the reference app cannot be imported: {error}")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'openapi.sqlite3'}", fixtures_enabled=True)
    app = create_app(settings)
    _compare_with_app(app.openapi(), document, "the reference app's FastAPI routes")


def _resolve(node: Any, root: dict[str, Any], depth: int = 0) -> Any:
    """Inline local `$ref`s (siblings of a `$ref` are merged over the target, as 3.1 allows)."""
    if depth > 20:
        return node
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str) and node["$ref"].startswith("#/"):
            target: Any = root
            for part in node["$ref"][2:].split("/"):
                target = target[part]
            merged = _merge(
                _resolve(target, root, depth + 1),
                {k: _resolve(v, root, depth + 1) for k, v in node.items() if k != "$ref"},
            )
            return merged
        return {k: _resolve(v, root, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, root, depth + 1) for v in node]
    return node


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    return over
