"""Test data: POST /api/e2e/fixtures (section 4) and the E2E_EMAIL account seed."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from refapp import readings
from refapp.actions import ACTION_KEYS, new_next_action
from refapp.auth import hash_password, verify_password
from refapp.config import SEED_QUEUED
from refapp.db import Database
from refapp.models import Lead, NextAction, User, new_id
from refapp.refusals import InvalidBody
from refapp.timeutil import utcnow

log = logging.getLogger("refapp")

DEFAULT_NEXT_ACTIONS = 3
MAX_NEXT_ACTIONS = 50


def _healthy(_name: str) -> bool:
    return False


def parse_fixture_request(body: object, broken: Callable[[str], bool] = _healthy) -> tuple[int, list[str]]:
    """Validate the fixtures body; raises InvalidBody (400 invalid_body). `broken` is `Settings.is_broken`."""
    if not isinstance(body, dict):
        raise InvalidBody()
    if broken("fixtures_unknown_field_400") and set(body) - {"nextActions", "failingActions"}:
        raise InvalidBody("Only nextActions and failingActions may be sent.")
    default = 2 if broken("fixtures_default_2") else DEFAULT_NEXT_ACTIONS
    count: object = body.get("nextActions", default)
    if broken("fixtures_zero_default"):
        count = body.get("nextActions") or default  # 0 is falsy: it becomes the default
    if isinstance(count, float) and count.is_integer() and readings.other("integral_float_count"):
        count = int(count)
    if (isinstance(count, bool) and not broken("fixtures_bool_count")) or not isinstance(count, int):
        raise InvalidBody("nextActions must be an integer from 1 to 50.")
    if not 1 <= count <= MAX_NEXT_ACTIONS + (1 if broken("fixtures_51_accepted") else 0):
        raise InvalidBody("nextActions must be an integer from 1 to 50.")
    failing: object = body.get("failingActions", [])
    if not isinstance(failing, list):
        raise InvalidBody("failingActions must be an array of action keys.")
    keys: list[str] = []
    for key in failing:
        if isinstance(key, str) and key not in ACTION_KEYS and broken("fixtures_unknown_key_dropped"):
            continue
        if not isinstance(key, str) or key not in ACTION_KEYS:
            raise InvalidBody("failingActions must be an array of action keys.")
        if key not in keys:
            keys.append(key)
    return count, keys


def _new_lead(user: User) -> Lead:
    now = utcnow()
    token = secrets.token_hex(4)
    scored = readings.other("lead_scored_at_creation")
    return Lead(
        id=new_id(),
        user_id=user.id,
        name=f"O'Neil & Co. (lead {token}) [*]?" if readings.other("punctuated_lead_names") else f"Lead {token}",
        score=secrets.randbelow(101),
        score_updated_at=now if scored else None,
        risk_evaluated_at=now if scored else None,
        created_at=now,
    )


def create_fixture(
    database: Database, count: int, failing: list[str], broken: Callable[[str], bool] = _healthy
) -> dict[str, Any]:
    """A brand-new user, one lead and `count` queued next actions."""
    token = secrets.token_hex(8)
    email = f"e2e-{token}@fixtures.example.test"
    password = secrets.token_urlsafe(18)
    password_hash = hash_password(password)
    with database.write() as session:
        user = User(id=new_id(), email=email, password_hash=password_hash, created_at=utcnow())
        session.add(user)
        session.flush()  # no ORM relationships: flush parents before children
        lead = _new_lead(user)
        session.add(lead)
        session.flush()
        actions = [new_next_action(lead, failing=[] if broken("failing_ignored") else failing) for _ in range(count)]
        for number, nba in enumerate(actions, start=1):
            if broken("titles_reused"):
                nba.title = f"Follow up [fixture item {number}]"  # unique in a call, the same in every call
            elif broken("titles_numbered"):
                nba.title = f"Follow up {lead.name} #{number}"  # #1 is inside #10
        session.add_all(actions)
        if broken("fixtures_welcome_item"):
            session.add(new_next_action(lead))  # an onboarding item the answer does not list
    body: dict[str, Any] = {
        "user": {"email": email, "password": password},
        "lead": {"id": lead.id},
        "nextActions": [{"id": nba.id, "title": nba.title} for nba in actions],
    }
    if readings.other("fixture_extra_fields"):
        body["user"]["id"] = user.id
        body["lead"]["name"] = lead.name
        for item in body["nextActions"]:
            item["status"] = "queued"
    return body


def seed_account(database: Database, email: str, password: str, queued_goal: int = SEED_QUEUED) -> None:
    """Ensure the E2E account exists with its password, one lead and >= `queued_goal` queued actions.

    Idempotent: run at every start-up; it only tops the queue up.
    """
    # Stored lower-case, unless e-mails match case-sensitively: then as given, or it could not sign in.
    email = email.strip() if readings.other("email_case_sensitive") else email.strip().lower()
    with database.write() as session:
        database.lock(session, "seed-account")
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            user = User(id=new_id(), email=email, password_hash=hash_password(password), created_at=utcnow())
            session.add(user)
        elif not verify_password(user.password_hash, password):
            user.password_hash = hash_password(password)
        session.flush()
        lead = session.execute(
            select(Lead).where(Lead.user_id == user.id).order_by(Lead.created_at).limit(1)
        ).scalar_one_or_none()
        if lead is None:
            lead = _new_lead(user)
            session.add(lead)
            session.flush()
        now = utcnow()
        queued = session.execute(
            select(func.count())
            .select_from(NextAction)
            .where(
                NextAction.lead_id == lead.id,
                NextAction.status == "queued",
                (NextAction.snoozed_until.is_(None)) | (NextAction.snoozed_until <= now),
            )
        ).scalar_one()
        for _ in range(max(0, queued_goal - int(queued))):
            session.add(new_next_action(lead))
    log.info("seeded the E2E account")
