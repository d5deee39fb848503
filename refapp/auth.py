"""Passwords, session tokens, and who is calling.

`session_user_id(request)` is the public entry point for other routers (refapp.ui):
it returns the authenticated user's id from the `session` cookie or an
`Authorization: Bearer <token>` header (the header wins when both are sent), or None.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from starlette.requests import HTTPConnection
from starlette.responses import Response

from refapp import readings
from refapp.db import Database, get_database
from refapp.models import UserSession

SESSION_COOKIE = "session"

# Deliberately low-cost argon2id parameters (1 pass, 8 MiB) so that creating fixture
# users is fast; this is a test reference app, not a production credential store.
_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password; with no hash, verify against a dummy so timing is alike."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_hex(32) if readings.other("hex_tokens") else secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def request_token(connection: HTTPConnection) -> str | None:
    """The bearer token of a request: Authorization: Bearer first, then the cookie (the other
    reading: the cookie first)."""
    cookie = connection.cookies.get(SESSION_COOKIE)
    settings = getattr(connection.app.state, "settings", None)
    if settings is not None and settings.is_broken("cookie_ignored") and connection.url.path.startswith("/api/"):
        cookie = None  # "the API is for bearer clients": the cookie is read by the pages only
    if cookie and readings.other("cookie_wins"):
        return cookie
    header = connection.headers.get("authorization")
    if header:
        scheme, _, value = header.strip().partition(" ")
        value = value.strip()
        settings = getattr(connection.app.state, "settings", None)
        exact = settings is not None and settings.is_broken("bearer_exact_case")
        if (scheme == "Bearer" if exact else scheme.lower() == "bearer") and value:
            return value
    return cookie or None


@dataclass(frozen=True)
class Caller:
    user_id: str
    session_id: str


def resolve_caller(database: Database, token: str | None) -> Caller | None:
    if not token or len(token) > 512:
        return None
    with database.read() as session:
        row = session.execute(
            select(UserSession.id, UserSession.user_id).where(UserSession.token_hash == token_hash(token))
        ).first()
    if row is None:
        return None
    return Caller(user_id=row.user_id, session_id=row.id)


def session_user_id(request: HTTPConnection) -> str | None:
    """The id of the user authenticated by the request's session cookie or bearer token.

    Opens its own short database session. None when there is no valid session.
    Synchronous (it queries the database): from async code, run it in a thread pool.
    """
    caller = resolve_caller(get_database(request), request_token(request))
    return caller.user_id if caller else None


def _same_site() -> str:
    return "Strict" if readings.other("samesite_strict") else "Lax"


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """`session=<token>; HttpOnly; Path=/; SameSite=Lax` (+ `Secure` over https).

    Written by hand so the attribute reads exactly `SameSite=Lax`.
    """
    cookie = f"{SESSION_COOKIE}={token}; HttpOnly; Path=/; SameSite={_same_site()}"
    if readings.other("persistent_cookie"):
        cookie += "; Max-Age=604800"
    if secure:
        cookie += "; Secure"
    response.headers.append("set-cookie", cookie)


def clear_session_cookie(response: Response, *, secure: bool) -> None:
    cookie = f"{SESSION_COOKIE}=; Max-Age=0; HttpOnly; Path=/; SameSite={_same_site()}"
    if secure:
        cookie += "; Secure"
    response.headers.append("set-cookie", cookie)
