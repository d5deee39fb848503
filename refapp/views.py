"""JSON shapes of the contract (camelCase) built from the ORM rows."""

from __future__ import annotations

from typing import Any

from refapp import readings
from refapp.models import Execution, Lead, NextAction, OpsEvent, RiskFlag
from refapp.timeutil import iso


def next_action_json(nba: NextAction) -> dict[str, Any]:
    body = {
        "id": nba.id,
        "title": nba.title,
        "status": nba.status,
        "leadId": nba.lead_id,
        "snoozedUntil": iso(nba.snoozed_until),
        "lastExecutedAt": iso(nba.last_executed_at),
        "lastExecutionStatus": nba.last_execution_status,
        "lastExecutionErrorCode": nba.last_execution_error_code,
        "lastExecutionErrorMessage": nba.last_execution_error_message,
    }
    if readings.other("nba_extra_fields"):
        body.update(createdAt=iso(nba.created_at), executionId=None)
    return body


def execution_json(execution: Execution) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": execution.id,
        "nextActionId": execution.next_action_id,
        "actionKey": execution.action_key,
        "status": execution.status,
        "startedAt": iso(execution.started_at),
        "finishedAt": iso(execution.finished_at),
        "errorCode": execution.error_code,
        "errorMessage": execution.error_message,
    }
    if readings.other("execution_extra_fields"):
        duration = None
        if execution.started_at is not None and execution.finished_at is not None:
            duration = round((execution.finished_at - execution.started_at).total_seconds() * 1000)
        body.update(durationMs=duration, error=None)
    return body


def lead_json(lead: Lead, flags: list[RiskFlag]) -> dict[str, Any]:
    body = {
        "id": lead.id,
        "name": lead.name,
        "score": lead.score,
        "scoreUpdatedAt": iso(lead.score_updated_at),
        "riskFlags": [{"code": flag.code, "severity": flag.severity} for flag in flags],
        "riskEvaluatedAt": iso(lead.risk_evaluated_at),
    }
    if readings.other("nba_extra_fields"):
        body["leadId"] = None
    return body


def event_json(event: OpsEvent, lead_id: str | None = None) -> dict[str, Any]:
    body = {
        "id": event.id,
        "type": event.type,
        "at": iso(event.at),
        "nextActionId": event.next_action_id,
        "actionKey": event.action_key,
        "executionId": event.execution_id,
    }
    if readings.other("event_extra_fields"):
        body.update(leadId=lead_id, error=None)
    return body
