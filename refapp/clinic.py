"""The migration clinic: prove the migration chain on a clean database.

The team lost days to a broken chain (a migration altering a table that no earlier
migration created, found only in production). On a clean database the clinic applies
the chain one revision at a time, so such a migration fails here, named; then it checks
that the models match the migrated schema, that `next_action_execution_delivery` adds
exactly what it should, that a second upgrade is a no-op, and that downgrading to base
and upgrading again gives the same schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from refapp import migrate
from refapp.db import create_db_engine
from refapp.models import Base

DELIVERY_REVISION = "0002_next_action_execution_delivery"

# What next_action_execution_delivery adds: columns on next_actions, the executions table
# and its two indexes. Column names are snake_case; the contract's JSON names are camelCase.
DELIVERY_NEXT_ACTION_COLUMNS = frozenset(
    {
        "snoozed_until",
        "last_executed_at",
        "last_execution_status",
        "last_execution_error_code",
        "last_execution_error_message",
    }
)
DELIVERY_EXECUTION_COLUMNS = frozenset(
    {
        "id",
        "next_action_id",
        "action_key",
        "status",
        "started_at",
        "finished_at",
        "error_code",
        "error_message",
        "meta_json",
    }
)
DELIVERY_EXECUTION_INDEXES = {
    "ix_executions_next_action_id": ("next_action_id",),
    "ix_executions_action_key_started_at": ("action_key", "started_at"),
}


@dataclass(frozen=True)
class Table:
    columns: frozenset[str]
    indexes: dict[str, tuple[str, ...]]


Schema = dict[str, Table]


@dataclass
class Finding:
    check: str
    ok: bool
    detail: str = ""

    def __str__(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.check}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Report:
    database: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.findings) and all(finding.ok for finding in self.findings)

    def add(self, check: str, ok: bool, detail: str = "") -> bool:
        self.findings.append(Finding(check, ok, detail))
        return ok


def snapshot(url: str) -> Schema:
    """Every table but alembic_version: its column names and named indexes."""
    engine = create_db_engine(url, pooled=False)
    try:
        inspector = inspect(engine)
        return {
            name: Table(
                columns=frozenset(column["name"] for column in inspector.get_columns(name)),
                indexes={
                    str(index["name"]): tuple(str(c) for c in index["column_names"])
                    for index in inspector.get_indexes(name)
                },
            )
            for name in inspector.get_table_names()
            if name != "alembic_version"
        }
    finally:
        engine.dispose()


def revision_of(url: str) -> str | None:
    """The Alembic revision the database at `url` is at (None: unversioned)."""
    engine = create_db_engine(url, pooled=False)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


def _drift(url: str) -> list[str]:
    engine = create_db_engine(url, pooled=False)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return [repr(diff) for diff in compare_metadata(context, Base.metadata)]
    finally:
        engine.dispose()


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "orig", None) or error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


def _delivery_delta(before: Schema, after: Schema) -> list[str]:
    """What is wrong with what the delivery migration changed (empty: exactly right)."""
    problems: list[str] = []
    added_tables = set(after) - set(before)
    if added_tables != {"executions"} or set(before) - set(after):
        problems.append(f"tables added {sorted(added_tables)}, removed {sorted(set(before) - set(after))}")
    for name in set(before) & set(after):
        added = after[name].columns - before[name].columns
        removed = before[name].columns - after[name].columns
        expected = DELIVERY_NEXT_ACTION_COLUMNS if name == "next_actions" else frozenset()
        if added != expected or removed:
            problems.append(f"{name}: columns added {sorted(added)}, removed {sorted(removed)}")
        if after[name].indexes != before[name].indexes:
            problems.append(f"{name}: indexes changed from {before[name].indexes} to {after[name].indexes}")
    executions = after.get("executions")
    if executions is not None:
        if executions.columns != DELIVERY_EXECUTION_COLUMNS:
            problems.append(f"executions has columns {sorted(executions.columns)}")
        if executions.indexes != DELIVERY_EXECUTION_INDEXES:
            problems.append(f"executions has indexes {executions.indexes}")
    return problems


def run_clinic(url: str, script_location: Path = migrate.MIGRATIONS_DIR) -> Report:
    """Run every check on the clean database at `url`; stops at the first broken step."""
    report = Report(database=make_url(url).render_as_string(hide_password=True))
    script = ScriptDirectory(str(script_location))
    chain = [revision.revision for revision in reversed(list(script.walk_revisions("base", "heads")))]
    heads = script.get_heads()
    if not report.add("one head", len(heads) == 1, f"heads {heads}"):
        return report

    base = snapshot(url)
    if not report.add("the database is clean", not base, f"it already has {sorted(base)}" if base else ""):
        return report

    schemas: dict[str, Schema] = {"base": base}
    previous = "base"
    for revision in chain:
        try:
            migrate.upgrade(url, revision, script_location)
        except Exception as error:  # any failure of a step is the finding
            report.add(f"upgrade {previous} -> {revision}", False, _first_line(error))
            return report
        schemas[revision] = snapshot(url)
        report.add(f"upgrade {previous} -> {revision}", True)
        previous = revision
    head = chain[-1]

    drift = _drift(url)
    report.add("models match the migrated schema", not drift, "; ".join(drift))

    if DELIVERY_REVISION in schemas:
        index = chain.index(DELIVERY_REVISION)
        before = schemas[chain[index - 1] if index else "base"]
        problems = _delivery_delta(before, schemas[DELIVERY_REVISION])
        report.add(
            f"{DELIVERY_REVISION} adds exactly its columns, table and indexes", not problems, "; ".join(problems)
        )
    else:
        report.add(f"{DELIVERY_REVISION} is in the chain", False, f"chain: {chain}")

    migrate.upgrade(url, "head", script_location)
    again = snapshot(url)
    report.add(
        "a second upgrade is a no-op",
        again == schemas[head] and revision_of(url) == head,
        "" if again == schemas[head] else "the schema changed",
    )

    migrate.downgrade(url, "base", script_location)
    left = snapshot(url)
    report.add("downgrade to base removes every table", not left, f"left: {sorted(left)}" if left else "")
    migrate.upgrade(url, "head", script_location)
    report.add("upgrade after downgrade gives the same schema", snapshot(url) == schemas[head])
    return report
