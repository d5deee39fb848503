# Sourced by scripts/test (after bootstrap.sh): a throwaway PostgreSQL server on loopback.
#
# start_postgres installs Debian's postgresql when no server binaries are found, creates a
# cluster in its own temporary data directory, starts it on 127.0.0.1 on a free port, and
# exports E2E_POSTGRES_URL / REFAPP_TEST_POSTGRES_URL. stop_postgres stops it and removes
# the data directory; start_postgres registers it on EXIT so nothing is left behind.

PG_DIR=""
PG_BIN=""
PG_RUN=()

find_pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

start_postgres() {
  local bin port
  if ! bin="$(find_pg_bin)"; then
    say "installing Debian's postgresql (server binaries only; its own cluster is not used)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    bin="$(find_pg_bin)" || { say "postgresql installed but no initdb found under /usr/lib/postgresql"; return 1; }
  fi
  PG_BIN="$bin"
  PG_DIR="$(mktemp -d /tmp/e2e-postgres.XXXXXX)"
  trap stop_postgres EXIT
  # PostgreSQL refuses to run as root: run it as the package's postgres user then.
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$PG_DIR"
    PG_RUN=(runuser -u postgres --)
  else
    PG_RUN=()
  fi
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  "${PG_RUN[@]}" "$bin/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # Loopback only, a socket directory of its own, durability off: a throwaway test server.
  "${PG_RUN[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$PG_DIR/server.log" >&2; return 1; }
  export E2E_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
  export REFAPP_TEST_POSTGRES_URL="$E2E_POSTGRES_URL"
  say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $PG_DIR)"
}

stop_postgres() {
  [ -n "$PG_DIR" ] || return 0
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=""
}
