"""next action execution and delivery: execution columns on next_actions, executions table.

Adds to next_actions (snake_case columns; JSON names in parentheses): snoozed_until
(snoozedUntil), last_executed_at (lastExecutedAt), last_execution_status
(lastExecutionStatus), last_execution_error_code (lastExecutionErrorCode),
last_execution_error_message (lastExecutionErrorMessage).

Creates executions: id, next_action_id (nextActionId, FK next_actions.id), action_key
(actionKey), status, started_at (startedAt), finished_at (finishedAt), error_code
(errorCode), error_message (errorMessage), meta_json (metaJson); indexes
ix_executions_next_action_id and ix_executions_action_key_started_at.

Revision ID: 0002_next_action_execution_delivery
Revises: 0001_base
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_next_action_execution_delivery"
down_revision = "0001_base"
branch_labels = None
depends_on = None

ID = 32

_NEW_COLUMNS = (
    "snoozed_until",
    "last_executed_at",
    "last_execution_status",
    "last_execution_error_code",
    "last_execution_error_message",
)


def upgrade() -> None:
    with op.batch_alter_table("next_actions") as batch:
        batch.add_column(sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_executed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_execution_status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("last_execution_error_code", sa.String(64), nullable=True))
        batch.add_column(sa.Column("last_execution_error_message", sa.Text(), nullable=True))
    op.create_table(
        "executions",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("next_action_id", sa.String(ID), nullable=False),
        sa.Column("action_key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("meta_json", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["next_action_id"],
            ["next_actions.id"],
            name="fk_executions_next_action_id_next_actions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_executions"),
    )
    op.create_index("ix_executions_next_action_id", "executions", ["next_action_id"])
    op.create_index("ix_executions_action_key_started_at", "executions", ["action_key", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_executions_action_key_started_at", table_name="executions")
    op.drop_index("ix_executions_next_action_id", table_name="executions")
    op.drop_table("executions")
    with op.batch_alter_table("next_actions") as batch:
        for name in reversed(_NEW_COLUMNS):
            batch.drop_column(name)
