"""Accounts: signing in (a new session token) and signing out (the session row deleted)."""

from __future__ import annotations

from sqlalchemy import delete, select

from refapp import readings
from refapp.auth import Caller, new_token, token_hash, verify_password
from refapp.db import Database, storable
from refapp.models import User, UserSession
from refapp.timeutil import utcnow

# The broken build `logged_out_events`: tokens remembered at login, which logout never forgets.
LOGIN_CACHE: dict[str, Caller] = {}


def sign_in(database: Database, email: str, password: str) -> tuple[str, str] | None:
    """(token, user id) for good credentials, else None."""
    if not storable(email):
        verify_password(None, password)
        return None
    with database.read() as session:
        if readings.other("email_case_sensitive"):
            # Matched exactly: in another case it is another address (fixture e-mails are lower-case).
            match = User.email == email.strip()
        else:
            match = User.email == email.strip().lower()
        user = session.execute(select(User).where(match)).scalar_one_or_none()
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    token = new_token()
    with database.write() as session:
        if readings.other("login_ends_sessions"):
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        session.add(UserSession(token_hash=token_hash(token), user_id=user.id, created_at=utcnow()))
    return token, user.id


def email_known(database: Database, email: str) -> bool:
    """Whether an account has this email (only the broken build `wrong_password_403` asks)."""
    with database.read() as session:
        return session.execute(select(User.id).where(User.email == email.strip().lower())).first() is not None


def sign_out(database: Database, caller: Caller) -> None:
    """End the caller's session: its token is dead from now on."""
    with database.write() as session:
        session.execute(delete(UserSession).where(UserSession.id == caller.session_id))
