"""contracts/openapi.yaml says no more than the contract: answers the contract allows pass its schemas.

Each row is an answer that CONTRACT.md allows (most of them at a point it calls free, or
where it says nothing), judged by the checks the fuzzer runs on every answer
(`response_schema_conformance`, `response_headers_conformance`). A row that fails means the
document forbids something the contract allows, which fails the fuzz tests against a correct
implementation (issue 12). A few answers the contract forbids are checked to be rejected, so
the table cannot pass by validating nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import response_headers_conformance, response_schema_conformance
from schemathesis.specs.openapi.schemas import OpenApiSchema

from contracts.fuzz import OPENAPI_PATH
from tests.fuzz.fake import answer

NBA: dict[str, Any] = {
    "id": "n1",
    "title": "Call Ada",
    "status": "queued",
    "leadId": "l1",
    "snoozedUntil": None,
    "lastExecutedAt": None,
    "lastExecutionStatus": None,
    "lastExecutionErrorCode": None,
    "lastExecutionErrorMessage": None,
}
EXECUTION: dict[str, Any] = {
    "id": "e1",
    "actionKey": "mark_done",
    "status": "success",
    "startedAt": "2026-12-01T05:00:00.123456+00:00",
    "finishedAt": "2026-12-01T05:00:00.2+00:00",
    "errorCode": None,
    "errorMessage": None,
}
LEAD: dict[str, Any] = {
    "id": "l1",
    "name": "Ada",
    "score": 40,
    "scoreUpdatedAt": None,
    "riskFlags": [],
    "riskEvaluatedAt": None,
}
EVENT: dict[str, Any] = {
    "type": "nba.delivery.executed",
    "at": "2026-12-01T05:00:00Z",
    "nextActionId": "n1",
    "actionKey": "mark_done",
    "executionId": "e1",
}
FIXTURES: dict[str, Any] = {
    "user": {"email": "u@example.com", "password": "pw"},
    "lead": {"id": "l1"},
    "nextActions": [{"id": "n1", "title": "Call Ada"}],
}
ERROR_401 = {"ok": False, "error": {"code": "unauthorized", "message": "Sign in first."}}
#: The names the contract uses anywhere, each repeated as an extra field with null (v1.1).
NULL_NAMES = ["ok", "token", "error", "executionId", "stubbed", "skipped", "processed", "items", "status", "id"]

EXECUTE = ("POST", "/api/next-actions/{id}/execute")
CRON = ("POST", "/api/cron/background-jobs")


@dataclass
class Row:
    operation: tuple[str, str]
    status: int
    body: Any
    why: str
    headers: dict[str, str | list[str]] = field(default_factory=dict)


def _nulls(body: dict[str, Any]) -> dict[str, Any]:
    """`body` plus every contract name it does not carry, as an extra field with null (v1.1)."""
    return {**{name: None for name in NULL_NAMES if name not in body}, **body}


def _whole_seconds(body: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**body, **{name: "2026-12-01T05:00:00Z" for name in names}}


ALLOWED: dict[str, Row] = {
    "execute-stubbed-false": Row(EXECUTE, 200, {"ok": True, "executionId": "e1", "stubbed": False}, "§6 v1.1"),
    "execute-stubbed-absent": Row(EXECUTE, 200, {"ok": True, "executionId": "e1"}, "§6"),
    "execute-stubbed-true": Row(EXECUTE, 200, {"ok": True, "executionId": "e1", "stubbed": True}, "§6"),
    "execute-first-answer-replayed-false": Row(
        EXECUTE, 200, {"ok": True, "executionId": "e1"}, "§6 v1.1", {"Idempotent-Replayed": "false"}
    ),
    "execute-first-answer-replayed-0": Row(
        EXECUTE, 200, {"ok": True, "executionId": "e1"}, "§6 v1.1", {"Idempotent-Replayed": "0"}
    ),
    "execute-replay-true": Row(EXECUTE, 200, {"ok": True, "executionId": "e1"}, "§6", {"Idempotent-Replayed": "true"}),
    "execute-500-replayed-false": Row(
        EXECUTE,
        500,
        {"ok": False, "error": {"code": "execution_failed", "message": "failed", "executionId": "e1"}},
        "§6 v1.1",
        {"Idempotent-Replayed": "false"},
    ),
    "execute-extra-fields-null": Row(EXECUTE, 200, _nulls({"ok": True, "executionId": "e1"}), "§1 v1.1"),
    "execute-numeric-looking-id": Row(EXECUTE, 200, {"ok": True, "executionId": "12345"}, "§1 ids are opaque"),
    "execute-429-retry-after-60": Row(
        EXECUTE, 429, {"ok": False, "error": {"code": "rate_limited", "message": "slow"}}, "§6", {"Retry-After": "60"}
    ),
    "execute-error-extra-fields": Row(
        EXECUTE,
        404,
        {"ok": False, "error": {"code": "not_found", "message": "no", "executionId": None}, "requestId": "r"},
        "§1",
    ),
    "cron-skipped-null": Row(CRON, 200, {"ok": True, "processed": 1, "skipped": None}, "§8 v1.1"),
    "cron-locked-processed-null": Row(CRON, 200, {"ok": True, "skipped": "locked", "processed": None}, "§8 v1.1"),
    "cron-extra-fields": Row(CRON, 200, {"ok": True, "processed": 0, "durationMs": 3}, "§1"),
    "login-extra-fields-null": Row(
        ("POST", "/api/auth/login"),
        200,
        _nulls({"ok": True, "token": "t"}),
        "§1 v1.1",
        {"Set-Cookie": "session=t; HttpOnly; Path=/; SameSite=Lax"},
    ),
    "login-another-cookie-first": Row(
        ("POST", "/api/auth/login"),
        200,
        {"ok": True, "token": "t"},
        "§2 silent on other cookies",
        {"Set-Cookie": ["csrf=x; Path=/", "session=t; HttpOnly; Path=/; SameSite=Strict; Secure"]},
    ),
    "logout-empty-object": Row(("POST", "/api/auth/logout"), 200, {}, "§2 body free"),
    "logout-ok-null": Row(("POST", "/api/auth/logout"), 200, {"ok": True, "token": None}, "§2 body free"),
    "logout-401": Row(("POST", "/api/auth/logout"), 401, ERROR_401, "§2"),
    "health-environment": Row(("GET", "/api/health"), 200, {"ok": True, "environment": "staging"}, "§3 v1.1"),
    "health-extra-null": Row(("GET", "/api/health"), 200, _nulls({"ok": True}), "§3"),
    "fixtures-extra-fields-null": Row(("POST", "/api/e2e/fixtures"), 201, _nulls(FIXTURES), "§1 v1.1"),
    "fixtures-numeric-looking-ids": Row(
        ("POST", "/api/e2e/fixtures"),
        201,
        {**FIXTURES, "lead": {"id": "7"}, "nextActions": [{"id": "42", "title": "t"}]},
        "§1",
    ),
    "list-extra-fields-null": Row(("GET", "/api/next-actions"), 200, {"items": [_nulls(NBA)], "ok": None}, "§1 v1.1"),
    "list-whole-second-times": Row(
        ("GET", "/api/next-actions"),
        200,
        {"items": [_whole_seconds({**NBA, "lastExecutionStatus": "success"}, "snoozedUntil", "lastExecutedAt")]},
        "§1",
    ),
    "nba-offset-times": Row(
        ("GET", "/api/next-actions/{id}"),
        200,
        {
            **NBA,
            "status": "done",
            "snoozedUntil": "2026-12-02T07:00:00+02:00",
            "lastExecutedAt": "2026-12-01T05:00:00.123Z",
        },
        "§1",
    ),
    "executions-whole-seconds": Row(
        ("GET", "/api/next-actions/{id}/executions"),
        200,
        {"items": [_nulls(_whole_seconds(EXECUTION, "startedAt", "finishedAt"))]},
        "§1 v1.1",
    ),
    "executions-failed": Row(
        ("GET", "/api/next-actions/{id}/executions"),
        200,
        {"items": [{**EXECUTION, "status": "failed", "errorCode": "boom", "errorMessage": "it failed"}]},
        "§6",
    ),
    "lead-extra-and-flags": Row(
        ("GET", "/api/leads/{id}"),
        200,
        _nulls(
            _whole_seconds(
                {**LEAD, "riskFlags": [{"code": "stale", "severity": 2, "note": None}]},
                "scoreUpdatedAt",
                "riskEvaluatedAt",
            )
        ),
        "§1 v1.1, §5 severity untyped",
    ),
    "events-stub-job-nulls": Row(
        ("GET", "/api/ops/events"),
        200,
        {"items": [{**EVENT, "type": "nba.delivery.retry_job.stub", "actionKey": None, "executionId": None}]},
        "§7",
    ),
    "events-extra-fields": Row(("GET", "/api/ops/events"), 200, {"items": [_nulls(EVENT)]}, "§1 v1.1"),
}

#: Answers the contract forbids: the document must reject each, or the table proves nothing.
FORBIDDEN: dict[str, Row] = {
    "execute-no-execution-id": Row(EXECUTE, 200, {"ok": True}, "§6"),
    "execute-stubbed-string": Row(EXECUTE, 200, {"ok": True, "executionId": "e1", "stubbed": "yes"}, "§6"),
    "execute-500-other-code": Row(EXECUTE, 500, {"ok": False, "error": {"code": "internal", "message": "x"}}, "§6"),
    "execute-429-without-retry-after": Row(
        EXECUTE, 429, {"ok": False, "error": {"code": "rate_limited", "message": "slow"}}, "§6"
    ),
    "cron-neither-processed-nor-locked": Row(CRON, 200, {"ok": True, "skipped": None}, "§8"),
    "cron-skipped-other": Row(CRON, 200, {"ok": True, "skipped": "busy"}, "§8"),
    "nba-unknown-status": Row(("GET", "/api/next-actions/{id}"), 200, {**NBA, "status": "pending"}, "§5"),
    "lead-score-over-100": Row(("GET", "/api/leads/{id}"), 200, {**LEAD, "score": 101}, "§5"),
    "error-without-message": Row(("GET", "/api/leads/{id}"), 404, {"ok": False, "error": {"code": "not_found"}}, "§1"),
}


@pytest.fixture(scope="module")
def schema() -> OpenApiSchema:
    return schemathesis.openapi.from_path(OPENAPI_PATH)


def _case(schema: OpenApiSchema, operation: tuple[str, str]) -> Case:
    method, path = operation
    op = schema[path][method]
    kwargs: dict[str, Any] = {}
    if "{id}" in path:
        kwargs["path_parameters"] = {"id": "n1"}
    if path == "/api/next-actions/{id}/execute":
        kwargs.update(body={"actionKey": "mark_done"}, media_type="application/json")
    elif path == "/api/auth/login":
        kwargs.update(body={"email": "u@example.com", "password": "pw"}, media_type="application/json")
    return op.Case(**kwargs)


def _judge(schema: OpenApiSchema, row: Row) -> None:
    case = _case(schema, row.operation)
    response = answer(case, row.status, row.body, row.headers)
    case.validate_response(response, checks=[response_schema_conformance, response_headers_conformance])


@pytest.mark.parametrize("name", list(ALLOWED), ids=list(ALLOWED))
def test_the_document_allows_what_the_contract_allows(schema: OpenApiSchema, name: str) -> None:
    row = ALLOWED[name]
    try:
        _judge(schema, row)
    except FailureGroup as error:
        pytest.fail(
            f"contracts/openapi.yaml forbids an answer the contract allows ({row.why}): "
            f"{row.operation[0]} {row.operation[1]} {row.status} {row.body!r} {row.headers!r}. "
            f"Loosen the document there.\n{error}",
            pytrace=False,
        )


@pytest.mark.parametrize("name", list(FORBIDDEN), ids=list(FORBIDDEN))
def test_the_document_still_rejects_what_the_contract_forbids(schema: OpenApiSchema, name: str) -> None:
    with pytest.raises(FailureGroup):
        _judge(schema, FORBIDDEN[name])
