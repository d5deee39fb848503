"""ORM models. They mirror the Alembic migrations in refapp/migrations exactly.

Column names are snake_case; the JSON field names of the contract are camelCase
(e.g. next_actions.snoozed_until is `snoozedUntil`, executions.next_action_id is
`nextActionId`, executions.meta_json is `metaJson`). Ids are opaque 32-character
hex strings (uuid4). Times are stored in UTC (`UTCDateTime`).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from refapp import readings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID_LENGTH = 32


def new_id() -> str:
    if readings.other("numeric_ids"):
        return str(10**29 + secrets.randbelow(9 * 10**29))  # 30 digits, no leading zero
    return uuid4().hex


class UTCDateTime(TypeDecorator[datetime]):
    """DateTime(timezone=True) that always hands back aware UTC datetimes.

    SQLite has no time zones: values are stored as naive UTC text and read back as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserSession(Base):
    """A login session. Only the SHA-256 (hex) of the bearer token is stored."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Lead(Base):
    __tablename__ = "leads"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    score: Mapped[int] = mapped_column(Integer)
    score_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    risk_evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NextAction(Base):
    """A next best action. `failing_actions` is a JSON array of action keys (fixtures)."""

    __tablename__ = "next_actions"
    __table_args__ = (Index("ix_next_actions_user_id_status", "user_id", "status"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    lead_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    failing_actions: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Added by 0002_next_action_execution_delivery:
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_execution_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_execution_error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    last_execution_error_message: Mapped[str | None] = mapped_column(Text, nullable=True)


class RiskFlag(Base):
    __tablename__ = "risk_flags"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    lead_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("leads.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Job(Base):
    """A background job; status is queued, then done or failed (claimed atomically)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created_at", "status", "created_at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(64))
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OpsEvent(Base):
    __tablename__ = "ops_events"
    __table_args__ = (Index("ix_ops_events_user_id_at", "user_id", "at"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_action_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    action_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    execution_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)


class RateLimitHit(Base):
    """One counted request; `at` is seconds since the epoch (server wall clock)."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_at", "bucket", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    bucket: Mapped[str] = mapped_column(String(255))
    at: Mapped[float] = mapped_column(Float)


class IdempotencyKey(Base):
    """An Idempotency-Key per user: state in_flight, then done with the stored answer."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    next_action_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    action_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class CronLock(Base):
    """The cron lock row on SQLite: held by `holder` until `lease_until` (epoch seconds)."""

    __tablename__ = "cron_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
    lease_until: Mapped[float] = mapped_column(Float)


class Execution(Base):
    """Created by 0002_next_action_execution_delivery."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_next_action_id", "next_action_id"),
        Index("ix_executions_action_key_started_at", "action_key", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True, default=new_id)
    next_action_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("next_actions.id", ondelete="CASCADE"))
    action_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    meta_json: Mapped[str | None] = mapped_column(Text, nullable=True)
