"""base: users, sessions, leads, next actions, risk flags, jobs, ops events,
rate-limit hits, idempotency keys and the cron lock.

Revision ID: 0001_base
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None

ID = 32


def _ts(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_sessions_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_sessions_token_hash"),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "leads",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        _ts("score_updated_at", nullable=True),
        _ts("risk_evaluated_at", nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_leads_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_leads"),
    )
    op.create_index("ix_leads_user_id", "leads", ["user_id"])
    op.create_table(
        "next_actions",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("lead_id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failing_actions", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_next_actions_lead_id_leads", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_next_actions_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_next_actions"),
    )
    op.create_index("ix_next_actions_lead_id", "next_actions", ["lead_id"])
    op.create_index("ix_next_actions_user_id_status", "next_actions", ["user_id", "status"])
    op.create_table(
        "risk_flags",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("lead_id", sa.String(ID), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name="fk_risk_flags_lead_id_leads", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_risk_flags"),
    )
    op.create_index("ix_risk_flags_lead_id", "risk_flags", ["lead_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at"),
        _ts("processed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_status_created_at", "jobs", ["status", "created_at"])
    op.create_table(
        "ops_events",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        _ts("at"),
        sa.Column("next_action_id", sa.String(ID), nullable=True),
        sa.Column("action_key", sa.String(64), nullable=True),
        sa.Column("execution_id", sa.String(ID), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_ops_events_user_id_users", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_ops_events"),
    )
    op.create_index("ix_ops_events_user_id_at", "ops_events", ["user_id", "at"])
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rate_limit_hits"),
    )
    op.create_index("ix_rate_limit_hits_bucket_at", "rate_limit_hits", ["bucket", "at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("next_action_id", sa.String(ID), nullable=False),
        sa.Column("action_key", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        _ts("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_idempotency_keys_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_idempotency_keys"),
        sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])
    op.create_table(
        "cron_locks",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("holder", sa.String(ID), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_cron_locks"),
    )


def downgrade() -> None:
    op.drop_table("cron_locks")
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_rate_limit_hits_bucket_at", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
    op.drop_index("ix_ops_events_user_id_at", table_name="ops_events")
    op.drop_table("ops_events")
    op.drop_index("ix_jobs_status_created_at", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_risk_flags_lead_id", table_name="risk_flags")
    op.drop_table("risk_flags")
    op.drop_index("ix_next_actions_user_id_status", table_name="next_actions")
    op.drop_index("ix_next_actions_lead_id", table_name="next_actions")
    op.drop_table("next_actions")
    op.drop_index("ix_leads_user_id", table_name="leads")
    op.drop_table("leads")
    op.drop_index("ix_sessions_user_id", table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("users")
