"""The contract suite against the reference app as a multi-instance deployment on PostgreSQL.

Two `refapp serve` processes share one listening socket (the kernel spreads connections
between them) and one fresh PostgreSQL database, so rate limits, idempotency keys and the
cron lock are exercised across processes. The database is dropped afterwards.

Run: E2E_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
       .tools/bin/uv run python scripts/contracts_on_postgres.py [extra pytest args]
(`bash scripts/test` starts a throwaway server and runs this.) Exits with pytest's status.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from uuid import uuid4

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import ArgumentError, OperationalError  # noqa: E402

from safety.embedded import EmbeddedApp, EmbeddedAppError  # noqa: E402

PROCESSES = 2


def main() -> int:
    server = os.environ.get("E2E_POSTGRES_URL", "").strip()
    if not server:
        print(
            "contracts_on_postgres: E2E_POSTGRES_URL is not set; set it to a PostgreSQL server URL "
            "(postgresql+psycopg://user@127.0.0.1:5432/postgres) where the user may CREATE DATABASE.",
            file=sys.stderr,
        )
        return 2
    try:
        url = make_url(server)
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        name = f"e2e_contracts_{uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except (ArgumentError, OperationalError) as error:
        safe = url.render_as_string(hide_password=True) if "url" in locals() else "(unparsable)"
        print(f"contracts_on_postgres: cannot create a database on {safe}: {type(error).__name__}.", file=sys.stderr)
        return 2
    database_url = url.set(database=name).render_as_string(hide_password=False)
    app = EmbeddedApp(extra_env={"DATABASE_URL": database_url}, processes=PROCESSES)
    try:
        app.start()
        print(
            f"==> contracts on PostgreSQL database {name}: {PROCESSES} server processes {app.pids} behind {app.url}",
            flush=True,
        )
        env = {k: v for k, v in os.environ.items() if k not in ("E2E_BASE_URL", "E2E_ALLOW_PROD_SCORE")}
        env["E2E_CRON_SECRET"] = app.cron_secret
        command = [sys.executable, "-m", "pytest", "contracts", f"--base-url={app.url}", *sys.argv[1:]]
        return subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    except EmbeddedAppError as error:
        print(f"contracts_on_postgres: {error}", file=sys.stderr)
        return 1
    finally:
        app.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
