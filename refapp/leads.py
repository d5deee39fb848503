"""Reading a lead with its risk flags, for its owner only (`GET /api/leads/{id}`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from refapp import readings
from refapp.db import Database, storable
from refapp.models import ID_LENGTH, Lead, RiskFlag
from refapp.refusals import NotFound
from refapp.views import lead_json


def lead(database: Database, user_id: str, lead_id: str, *, any_owner: bool = False) -> dict[str, Any]:
    """The user's lead `lead_id` as the API shows it; NotFound when unknown or another user's.

    `any_owner` (the broken build `other_user_lead_visible`) shows any user's lead.
    """
    if not storable(lead_id, ID_LENGTH):
        raise NotFound()
    with database.read() as session:
        row = session.get(Lead, lead_id)
        if row is None or (row.user_id != user_id and not any_owner):
            raise NotFound()
        flags = list(
            session.execute(
                select(RiskFlag).where(RiskFlag.lead_id == lead_id).order_by(RiskFlag.created_at, RiskFlag.code)
            ).scalars()
        )
        if readings.other("risk_flags_reversed"):
            flags.reverse()
        return lead_json(row, flags)


def lead_view(database: Database, user_id: str, lead_id: str) -> dict[str, Any]:
    """The lead as the API answers it; raises NotFound (for the server-rendered UI)."""
    return lead(database, user_id, lead_id)
