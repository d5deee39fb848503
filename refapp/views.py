"""JSON shapes of the contract (camelCase) built from the ORM rows."""

from __future__ import annotations

from typing import Any

from refapp.models import Execution, Lead, NextAction, OpsEvent, RiskFlag
from refapp.timeutil import iso


def next_action_json(nba: NextAction) -> dict[str, Any]:
    return {
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


def execution_json(execution: Execution) -> dict[str, Any]:
    return {
        "id": execution.id,
        "nextActionId": execution.next_action_id,
        "actionKey": execution.action_key,
        "status": execution.status,
        "startedAt": iso(execution.started_at),
        "finishedAt": iso(execution.finished_at),
        "errorCode": execution.error_code,
        "errorMessage": execution.error_message,
    }


def lead_json(lead: Lead, flags: list[RiskFlag]) -> dict[str, Any]:
    return {
        "id": lead.id,
        "name": lead.name,
        "score": lead.score,
        "scoreUpdatedAt": iso(lead.score_updated_at),
        "riskFlags": [{"code": flag.code, "severity": flag.severity} for flag in flags],
        "riskEvaluatedAt": iso(lead.risk_evaluated_at),
    }


def event_json(event: OpsEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "at": iso(event.at),
        "nextActionId": event.next_action_id,
        "actionKey": event.action_key,
        "executionId": event.execution_id,
    }
