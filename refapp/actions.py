"""The six actions of section 6, and running one as an execution.

An execution runs in ONE write transaction: the action's effects (inside a
savepoint, rolled back if the action raises), the Execution record, the next
action's last* fields, the ops events and the idempotency answer commit together.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from refapp import idempotency, readings
from refapp.config import Settings
from refapp.db import Database
from refapp.models import Execution, Job, Lead, NextAction, OpsEvent, RiskFlag, new_id
from refapp.refusals import NotFound
from refapp.timeutil import utcnow

log = logging.getLogger("refapp")

ACTION_KEYS: tuple[str, ...] = (
    "mark_done",
    "snooze_1d",
    "recompute_score",
    "run_risk_rules",
    "run_next_actions",
    "retry_failed_deliveries",
)
STUB_ACTION = "retry_failed_deliveries"
RETRY_JOB = "retry_failed_deliveries"
FIXTURE_SECRET = "sk_live_FIXTURE_SECRET"  # noqa: S105 - a fake secret the suite hunts for
FAILED_CODE = "action_failed"
FAILED_MESSAGE = "The action failed inside the service."
EXECUTION_FAILED_MESSAGE = "The action failed."

EVENT_EXECUTED = "nba.delivery.executed"
EVENT_FAILED = "nba.delivery.failed"
EVENT_STUBBED = "nba.delivery.stubbed"
EVENT_RETRY_STUB = "nba.delivery.retry_job.stub"
EVENT_RECORDED = "nba.execution.recorded"  # the other reading's extra event type

TITLE_TOKEN_HEX = 16


class SimulatedActionFailure(RuntimeError):
    """The failure that fixtures ask for; its text carries a fake live secret."""


def new_title() -> str:
    """A unique title of fixed width: no title can contain another, different one."""
    token = secrets.token_hex(TITLE_TOKEN_HEX // 2)
    return f"Call ({token}) back?" if readings.other("other_titles") else f"Follow up [{token}]"


def new_next_action(lead: Lead, *, failing: list[str] | None = None) -> NextAction:
    return NextAction(
        id=new_id(),
        lead_id=lead.id,
        user_id=lead.user_id,
        title=new_title(),
        status="queued",
        failing_actions=json.dumps(failing) if failing else None,
        created_at=utcnow(),
    )


def failing_keys(nba: NextAction) -> list[str]:
    if not nba.failing_actions:
        return []
    value = json.loads(nba.failing_actions)
    return [str(key) for key in value] if isinstance(value, list) else []


def _queued_unsnoozed(now: datetime) -> Any:
    return (NextAction.status == "queued") & or_(NextAction.snoozed_until.is_(None), NextAction.snoozed_until <= now)


def _risk_flags(lead: Lead) -> list[tuple[str, str]]:
    flags = [("no_recent_contact", "low")]
    if lead.score < 40:
        flags.append(("low_score", "high"))
    elif lead.score < 70:
        flags.append(("score_drop", "medium"))
    return flags


def apply_action(
    session: Session, nba: NextAction, lead: Lead, action_key: str, settings: Settings | None = None
) -> dict[str, Any]:
    """Perform the action's effects; returns metadata kept with the execution."""

    def broken(name: str) -> bool:
        return settings is not None and settings.is_broken(name)

    if action_key in failing_keys(nba):
        raise SimulatedActionFailure(
            f"delivery provider rejected the request (api_key={FIXTURE_SECRET}, next_action={nba.id})"
        )
    now = utcnow()
    if action_key == "mark_done":
        nba.status = "queued" if broken("mark_done_toggles") and nba.status == "done" else "done"
        if broken("mark_done_completed"):
            nba.status = "completed"
        return {}
    if action_key == "snooze_1d":
        until = now + (timedelta(minutes=24) if broken("snooze_24_minutes") else timedelta(days=1))
        if broken("snooze_from_previous") and nba.snoozed_until is not None and nba.snoozed_until > now:
            until = nba.snoozed_until + timedelta(days=1)
        if readings.other("snooze_to_the_minute"):
            until = until.replace(second=0, microsecond=0)
        nba.snoozed_until = until
        return {}
    if action_key == "recompute_score":
        if not readings.other("recompute_keeps_score"):
            lead.score = random.randint(0, 100)
        if broken("recompute_sets_risk_time"):
            lead.risk_evaluated_at = now
        elif not (broken("score_time_set_once") and lead.score_updated_at is not None):
            lead.score_updated_at = now
        return {"score": lead.score}
    if action_key == "run_risk_rules":
        session.execute(delete(RiskFlag).where(RiskFlag.lead_id == lead.id))
        flags = _risk_flags(lead)
        for code, severity in flags:
            session.add(RiskFlag(id=new_id(), lead_id=lead.id, code=code, severity=severity, created_at=now))
        if not (broken("risk_time_set_once") and lead.risk_evaluated_at is not None):
            lead.risk_evaluated_at = now
        return {"flags": [code for code, _ in flags]}
    if action_key == "run_next_actions":
        session.flush()
        inherited = failing_keys(nba) if readings.other("failing_inherited") else None
        if readings.other("run_next_actions_closes"):
            # Replace the lead's queue: every queued one (this one too) is closed, one new is made.
            old = session.execute(
                select(NextAction).where(NextAction.lead_id == lead.id, NextAction.status == "queued")
            ).scalars()
            closed = [item.id for item in old]
            for item_id in closed:
                session.get_one(NextAction, item_id).status = "done"
            replacements = [new_next_action(lead, failing=inherited) for _ in range(2)]
            session.add_all(replacements)
            return {"created": [item.id for item in replacements], "closed": closed}
        waiting = NextAction.status == "queued" if broken("regenerate_counts_snoozed") else _queued_unsnoozed(now)
        existing = session.execute(select(NextAction.id).where(NextAction.lead_id == lead.id, waiting)).first()
        if existing is not None:
            return {"created": []}
        created = new_next_action(lead, failing=inherited)
        if broken("regenerate_copies_status"):
            # The new item is cloned from this one as a template, status included.
            created.status, created.snoozed_until = nba.status, nba.snoozed_until
        session.add(created)
        return {"created": [created.id]}
    if action_key == STUB_ACTION:
        job = Job(
            id=new_id(),
            kind=RETRY_JOB,
            payload_json=json.dumps({"nextActionId": nba.id}),
            status="queued",
            created_at=now,
        )
        if not broken("stub_enqueues_no_job"):
            session.add(job)
        return {"stubbed": True, "jobId": job.id}
    raise ValueError(f"unknown action key {action_key!r}")  # pragma: no cover


def _failed_answer_message(settings: Settings, error: BaseException) -> str:
    """The message of a 500 execution_failed answer (two broken builds put the error's own text in it)."""
    if settings.is_broken("secret_in_answer"):
        return f"The action failed: {error}"
    if settings.is_broken("leak_traceback_500"):
        # The key is redacted, but the trace is left in "for debugging".
        return "".join(traceback.format_exception(error)).replace(FIXTURE_SECRET, "***")
    return EXECUTION_FAILED_MESSAGE


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def execute(
    database: Database,
    settings: Settings,
    user_id: str,
    next_action_id: str,
    action_key: str,
    idempotency_key_id: str | None,
) -> Outcome:
    """Run `action_key` on a next action of `user_id` and record it; returns the answer."""
    requested_at = utcnow()
    with database.write() as session:
        database.lock(session, f"next_action:{next_action_id}")
        nba = session.get(NextAction, next_action_id)
        if nba is None and settings.is_broken("unknown_id_500"):
            nba = cast(NextAction, nba)  # the id was "already checked": an unknown one crashes below
        elif nba is None or (nba.user_id != user_id and not settings.is_broken("execute_ignores_owner")):
            raise NotFound()
        lead = session.get(Lead, nba.lead_id)
        if lead is None:  # pragma: no cover - FK with cascade
            raise NotFound()
        execution_id = new_id()
        started_at = utcnow()
        error: BaseException | None = None
        meta: dict[str, Any] = {}
        try:
            with session.begin_nested():
                meta = apply_action(session, nba, lead, action_key, settings)
        except Exception as exc:
            error = exc
            log.warning("action %s failed on an execution (%s)", action_key, type(exc).__name__)
        executed_at = utcnow()
        if error is None:
            status, error_code, error_message = "success", None, None
        else:
            status, error_code = "failed", None if settings.is_broken("failed_error_code_null") else FAILED_CODE
            error_message = str(error) if settings.is_broken("leak_secret") else FAILED_MESSAGE
        if settings.is_broken("last_executed_before_start"):
            nba.last_executed_at = requested_at
        elif not (settings.is_broken("last_executed_once") and nba.last_executed_at is not None):
            nba.last_executed_at = executed_at
        if not (settings.is_broken("last_status_once") and nba.last_execution_status is not None):
            nba.last_execution_status = status
        if error is not None or not settings.is_broken("error_not_cleared"):
            nba.last_execution_error_code = error_code
            nba.last_execution_error_message = error_message
        if error is not None and settings.is_broken("failure_recorded_twice"):
            # The attempt is recorded, then the failure is recorded as a second row.
            session.add(
                Execution(
                    id=new_id(),
                    next_action_id=nba.id,
                    action_key=action_key,
                    status=status,
                    started_at=started_at,
                    finished_at=executed_at,
                    error_code=error_code,
                    error_message=error_message,
                )
            )
        session.add(
            Execution(
                id=execution_id,
                next_action_id=nba.id,
                action_key=action_key,
                status="success" if settings.is_broken("failed_record_success") else status,
                started_at=started_at,
                finished_at=utcnow(),
                error_code=error_code,
                error_message=error_message,
                meta_json=json.dumps(meta, separators=(",", ":")) if meta else None,
            )
        )
        if error is not None:
            event_types = [EVENT_EXECUTED if settings.is_broken("failed_emits_executed") else EVENT_FAILED]
        elif action_key == STUB_ACTION:
            event_types = [EVENT_EXECUTED if settings.is_broken("stub_emits_executed_only") else EVENT_STUBBED]
            if readings.other("stub_emits_executed"):
                event_types.append(EVENT_EXECUTED)
        else:
            event_types = [EVENT_EXECUTED]
            if settings.is_broken("executed_event_twice"):
                event_types.append(EVENT_EXECUTED)
        if readings.other("extra_event_types"):
            event_types.append(EVENT_RECORDED)
        for event_type in event_types:
            session.add(
                OpsEvent(
                    id=new_id(),
                    user_id=user_id,
                    type=event_type,
                    at=executed_at,
                    next_action_id=None
                    if error is not None and settings.is_broken("failed_event_without_next_action")
                    else nba.id,
                    action_key=action_key,
                    execution_id=execution_id,
                )
            )
        if error is None:
            body: dict[str, Any] = {"ok": True, "executionId": execution_id}
            if settings.is_broken("success_without_execution_id"):
                del body["executionId"]
            if action_key == STUB_ACTION and not settings.is_broken("stub_not_flagged"):
                body["stubbed"] = True
            elif readings.other("stubbed_false"):
                body["stubbed"] = False
            if readings.other("execute_extra_fields"):
                body.update(nextActionId=nba.id, actionKey=action_key)
            if readings.other("null_contract_names"):
                body["error"] = None
            outcome = Outcome(200, body)
        else:
            outcome = Outcome(
                500,
                {
                    "ok": False,
                    "error": {
                        "code": "execution_failed",
                        "message": _failed_answer_message(settings, error),
                        "executionId": None
                        if settings.is_broken("failed_answer_without_execution_id")
                        else execution_id,
                    },
                },
            )
        if idempotency_key_id is not None:
            idempotency.complete(session, idempotency_key_id, outcome.status, outcome.body)
        return outcome
