"""Reading next actions and their executions, for their owner only.

The queries behind `GET /api/next-actions`, `GET /api/next-actions/{id}` and
`GET /api/next-actions/{id}/executions`; an unknown or foreign id raises NotFound.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from sqlalchemy import or_, select

from refapp import readings
from refapp.config import Settings
from refapp.db import Database, storable
from refapp.models import ID_LENGTH, Execution, NextAction
from refapp.refusals import Forbidden, NotFound
from refapp.timeutil import utcnow
from refapp.views import execution_json, next_action_json

STATUSES = ("queued", "done")


def list_next_actions(
    database: Database, user_id: str, status: str, snoozed: bool, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The user's next actions with `status` ("" only in a broken build: any), unsnoozed unless `snoozed`."""
    now = utcnow()
    query = select(NextAction).where(NextAction.user_id == user_id, NextAction.status == status)
    if settings is not None and settings.is_broken("list_all_users"):
        query = select(NextAction).where(NextAction.status == status)
    if settings is not None and settings.is_broken("no_status_lists_all") and status == "":
        query = select(NextAction).where(NextAction.user_id == user_id)
    if settings is not None and settings.is_broken("done_excludes_snoozed"):
        query = query.where(or_(NextAction.snoozed_until.is_(None), NextAction.snoozed_until <= now))
    if status in ("queued", "") and not snoozed:
        query = query.where(or_(NextAction.snoozed_until.is_(None), NextAction.snoozed_until <= now))
    if readings.other("newest_first_next_actions"):
        query = query.order_by(NextAction.created_at.desc(), NextAction.id.desc())
    else:
        query = query.order_by(NextAction.created_at, NextAction.id)
    with database.read() as session:
        return [next_action_json(nba) for nba in session.execute(query).scalars()]


def list_next_action_rows(database: Database, user_id: str, status: str) -> list[dict[str, Any]]:
    """The caller's list as the API answers it (for the server-rendered UI of the other reading)."""
    return list_next_actions(database, user_id, status, False)


def owned_next_action(database: Database, settings: Settings, user_id: str, nba_id: str) -> NextAction:
    """The user's next action `nba_id`; NotFound when it is unknown or another user's."""
    if not storable(nba_id, ID_LENGTH):
        raise NotFound()
    with database.read() as session:
        nba = session.get(NextAction, nba_id)
        if nba is None:
            if settings.is_broken("leak_sql_404"):
                raise NotFound(
                    f"No row for SELECT next_actions.id, next_actions.title FROM next_actions "  # noqa: S608 - a message
                    f"WHERE next_actions.id = '{nba_id}'"
                )
            raise NotFound()
        if nba.user_id != user_id:
            if settings.is_broken("other_user_403"):
                raise Forbidden("This next action belongs to another user.")
            raise NotFound()
        return nba


def next_action(database: Database, settings: Settings, user_id: str, nba_id: str) -> dict[str, Any]:
    """The user's next action `nba_id` as the API shows it, snoozed or not; NotFound otherwise."""
    nba = owned_next_action(database, settings, user_id, nba_id)
    body = next_action_json(nba)
    if settings.is_broken("by_id_hides_snoozed") and nba.snoozed_until is not None:
        until = nba.snoozed_until if nba.snoozed_until.tzinfo else nba.snoozed_until.replace(tzinfo=UTC)
        if until > utcnow():
            raise NotFound()
    return body


def next_action_exists(database: Database, nba_id: str) -> bool:
    """Whether any user has a next action `nba_id` (only the broken build `executions_id_before_auth` asks)."""
    if not storable(nba_id, ID_LENGTH):
        return False
    with database.read() as session:
        return session.get(NextAction, nba_id) is not None


def executions(database: Database, settings: Settings, user_id: str, nba_id: str) -> list[dict[str, Any]]:
    """The executions of the user's next action `nba_id`, newest first; NotFound for an unknown or foreign id."""
    if settings.is_broken("other_user_executions"):
        with database.read() as session:
            if session.get(NextAction, nba_id) is None:  # exists, whoever owns it
                raise NotFound()
    else:
        owned_next_action(database, settings, user_id, nba_id)
    which = Execution.next_action_id == nba_id
    if settings.is_broken("executions_by_lead"):
        lead_items = select(NextAction.id).where(
            NextAction.lead_id == select(NextAction.lead_id).where(NextAction.id == nba_id).scalar_subquery()
        )
        which = Execution.next_action_id.in_(lead_items)
    with database.read() as session:
        order = (Execution.started_at.desc(), Execution.finished_at.desc())
        if settings.is_broken("executions_oldest_first"):
            order = (Execution.started_at.asc(), Execution.finished_at.asc())
        rows = session.execute(select(Execution).where(which).order_by(*order)).scalars()
        return [execution_json(row) for row in rows]
