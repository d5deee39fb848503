"""Reading the caller's ops events (`GET /api/ops/events`), newest first, with its filters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from refapp import readings
from refapp.config import Settings
from refapp.db import Database, storable
from refapp.models import NextAction, OpsEvent, User
from refapp.views import event_json

EVENT_LIST_LIMIT = 1000


def events(
    database: Database, settings: Settings, user_id: str, event_type: str | None, nba_id: str | None
) -> list[dict[str, Any]]:
    """The user's newest EVENT_LIST_LIMIT events, of `event_type` and on `nba_id` when given (exact match)."""
    if (event_type is not None and not storable(event_type)) or (nba_id is not None and not storable(nba_id)):
        return []
    query = select(OpsEvent)
    if not settings.is_broken("events_all_users") and (
        nba_id is None or not settings.is_broken("events_other_users_by_nba")
    ):
        query = query.where(OpsEvent.user_id == user_id)
    if event_type is not None and not settings.is_broken("events_type_filter_ignored"):
        query = query.where(OpsEvent.type == event_type)
    if nba_id is not None and not settings.is_broken("events_nba_filter_ignored"):
        query = query.where(OpsEvent.next_action_id == nba_id)
    if settings.is_broken("events_oldest_first"):
        query = query.order_by(OpsEvent.at, OpsEvent.id).limit(EVENT_LIST_LIMIT)
    else:
        query = query.order_by(OpsEvent.at.desc(), OpsEvent.id.desc()).limit(EVENT_LIST_LIMIT)
    with database.read() as session:
        rows = list(session.execute(query).scalars())
        leads: dict[str, str] = {}
        if readings.other("event_extra_fields"):
            nba_ids = {row.next_action_id for row in rows if row.next_action_id}
            found = session.execute(select(NextAction.id, NextAction.lead_id).where(NextAction.id.in_(nba_ids)))
            leads = {found_id: lead_id for found_id, lead_id in found}
        items = [event_json(row, leads.get(row.next_action_id or "")) for row in rows]
        if settings.is_broken("event_carries_email"):
            actor = session.get(User, user_id)
            for item in items:
                item["actor"] = actor.email if actor is not None else None
        return items
