"""Command line: `python -m refapp serve|migrate` (also the `refapp` console script)."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import socket
import sys

from refapp.config import ConfigError, Settings

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refapp", description="NBA reference app.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the app on a loopback address")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any)")
    serve.add_argument("--fd", type=int, default=None, help="serve on an inherited, already-listening socket")
    commands.add_parser("migrate", help="apply the database migrations and exit")
    commands.add_parser(
        "clinic",
        help="check the migration chain on the clean database in DATABASE_URL (it is left at head)",
    )
    return parser


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from refapp.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        workers=1,
        lifespan="on",
        # The server, not the app, writes Date; a broken build turns it off.
        date_header=not settings.is_broken("no_date_header"),
    )
    server = uvicorn.Server(config)
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            host = sock.getsockname()[0]
            if not is_loopback(host):
                sock.close()
                print(f"refapp: refusing to serve on non-loopback address {host}", file=sys.stderr)
                return 2
        server.run(sockets=[sock])
    else:
        server.run()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="refapp %(levelname)s %(message)s")
    if args.command == "migrate":
        from refapp import migrate

        settings = Settings(database_url=Settings.from_env_database_url())
        migrate.upgrade(settings.database_url)
        print(f"refapp: database at revision {migrate.head_revision()}")
        return 0
    if args.command == "clinic":
        from refapp.clinic import run_clinic

        report = run_clinic(Settings.from_env_database_url())
        print(f"migration clinic on {report.database}")
        for finding in report.findings:
            print(f"  {finding}")
        print("migration clinic: " + ("all checks passed" if report.ok else "FAILED"))
        return 0 if report.ok else 1
    if not is_loopback(args.host):
        parser.error(f"--host {args.host!r} is not a loopback address (127.0.0.0/8 or ::1)")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0..65535")
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"refapp: {error}", file=sys.stderr)
        return 2
    return _serve(args, settings)


if __name__ == "__main__":
    sys.exit(main())
