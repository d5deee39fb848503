"""The migration clinic on a clean SQLite and a clean PostgreSQL, and on a broken chain."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from refapp import migrate
from refapp.clinic import DELIVERY_REVISION, run_clinic

# A migration that adds a column to a table no earlier migration creates: the kind of
# chain the team once shipped. On a clean database it cannot apply.
ORPHAN_ALTER = """
import sqlalchemy as sa
from alembic import op

revision = "0003_orphan_alter"
down_revision = "0002_next_action_execution_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("retried_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("retried_at")
"""

# A migration that sneaks an extra column into next_actions under the delivery revision's name.
EXTRA_COLUMN = """
import sqlalchemy as sa
from alembic import op

revision = "0003_extra"
down_revision = "0002_next_action_execution_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("next_actions") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("next_actions") as batch:
        batch.drop_column("priority")
"""


def _chain_with(tmp_path: Path, extra: str) -> Path:
    """A copy of the app's migrations with one more revision appended."""
    location = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / "0003_extra.py").write_text(extra)
    return location


def test_the_app_chain_passes_every_check(clean_db_url: str) -> None:
    report = run_clinic(clean_db_url)
    failed = [str(f) for f in report.findings if not f.ok]
    assert report.ok, failed
    checks = {f.check for f in report.findings}
    assert {
        "upgrade base -> 0001_base",
        f"upgrade 0001_base -> {DELIVERY_REVISION}",
        "models match the migrated schema",
        f"{DELIVERY_REVISION} adds exactly its columns, table and indexes",
        "a second upgrade is a no-op",
        "downgrade to base removes every table",
        "upgrade after downgrade gives the same schema",
    } <= checks


def test_an_alter_of_a_table_no_migration_creates_fails_the_clinic(clean_db_url: str, tmp_path: Path) -> None:
    report = run_clinic(clean_db_url, _chain_with(tmp_path, ORPHAN_ALTER))
    assert not report.ok
    last = report.findings[-1]
    assert last.check == f"upgrade {DELIVERY_REVISION} -> 0003_orphan_alter"
    assert not last.ok
    assert "delivery_attempts" in last.detail


def test_schema_drift_from_the_models_fails_the_clinic(tmp_path: Path) -> None:
    report = run_clinic(f"sqlite:///{tmp_path / 'drift.sqlite3'}", _chain_with(tmp_path, EXTRA_COLUMN))
    drift = next(f for f in report.findings if f.check == "models match the migrated schema")
    assert not drift.ok
    assert "priority" in drift.detail


def test_a_database_that_is_not_clean_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'used.sqlite3'}"
    migrate.upgrade(url)
    report = run_clinic(url)
    assert not report.ok
    assert [(f.check, f.ok) for f in report.findings][-1] == ("the database is clean", False)


def test_clinic_command_prints_findings_and_exit_status(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-m", "refapp", "clinic"], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all checks passed" in done.stdout
    again = subprocess.run(
        [sys.executable, "-m", "refapp", "clinic"], env=env, capture_output=True, text=True, check=False, timeout=120
    )
    assert again.returncode == 1
    assert "FAIL the database is clean" in again.stdout


def test_the_delivery_delta_must_be_exact() -> None:
    from refapp.clinic import (
        DELIVERY_EXECUTION_COLUMNS,
        DELIVERY_EXECUTION_INDEXES,
        DELIVERY_NEXT_ACTION_COLUMNS,
        Table,
        _delivery_delta,
    )

    before = {"next_actions": Table(frozenset({"id", "title"}), {})}
    right = {
        "next_actions": Table(frozenset({"id", "title"}) | DELIVERY_NEXT_ACTION_COLUMNS, {}),
        "executions": Table(DELIVERY_EXECUTION_COLUMNS, dict(DELIVERY_EXECUTION_INDEXES)),
    }
    assert _delivery_delta(before, right) == []
    one_column_short = {**right, "next_actions": Table(frozenset({"id", "title", "snoozed_until"}), {})}
    assert _delivery_delta(before, one_column_short)
    no_index = {**right, "executions": Table(DELIVERY_EXECUTION_COLUMNS, {})}
    assert _delivery_delta(before, no_index)
    extra_table = {**right, "delivery_attempts": Table(frozenset({"id"}), {})}
    assert _delivery_delta(before, extra_table)
