# Sourced by scripts/test (after bootstrap.sh, for `say`): steps run side by side.
#
# `start NAME CMD...` runs a step in the background, `run NAME CMD...` in the foreground;
# `finish` waits for the background ones, printing each one's output as it ends; `steps_end`
# fails, naming them, if any step failed. Every step runs to its end. `stop_jobs` (the EXIT
# trap) stops what still runs, whole, then PostgreSQL when scripts/postgres.sh started one.

if ((BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1))); then
  say "scripts/test needs bash 5.1 or later (for wait -n -p); this is bash $BASH_VERSION: install a newer bash."
  exit 2
fi

STARTED=${STARTED:-$SECONDS}
step() { say "$* (at $((SECONDS - STARTED)) s)"; }

# Where each step's output (NAME.log) and own time in seconds (NAME.seconds) go.
steps_begin() {
  LOGS=$1
  STARTED=$SECONDS
  mkdir -p "$LOGS"
  rm -f "$LOGS"/*.log "$LOGS"/*.seconds
}

declare -A JOB_NAME=()
FAILED=()

# Start a step in the background, in a session (process group) of its own so that it can be
# stopped whole, with its output going to its log file.
start() {
  local name=$1
  shift
  step "started: $name"
  # The step's own time is written beside its log when it ends, not when it is waited for.
  setsid bash -c 'begun=$SECONDS; "$@"; rc=$?; echo $((SECONDS - begun)) >"$0"; exit $rc' \
    "$LOGS/$name.seconds" "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  JOB_NAME[$!]=$name
}

# Run a step in the foreground, its output streaming; a failure is recorded, not fatal.
run() {
  local name=$1 rc=0 at=$SECONDS
  shift
  step "$name"
  "$@" 2>&1 | tee "$LOGS/$name.log" || rc=$?
  conclude "$name" "$rc" "$((SECONDS - at))"
}

conclude() {
  local name=$1 rc=$2 took=$3
  if [ "$rc" = 0 ]; then
    step "passed: $name, in $took s"
  else
    step "FAILED: $name (exit $rc), in $took s; its output: $LOGS/$name.log"
    FAILED+=("$name")
  fi
}

# Wait for every started step, printing each one's output as it finishes.
finish() {
  local pid rc name
  while ((${#JOB_NAME[@]})); do
    rc=0
    wait -n -p pid "${!JOB_NAME[@]}" || rc=$?
    name=${JOB_NAME[$pid]}
    say "---- output of: $name"
    cat "$LOGS/$name.log" >&2
    conclude "$name" "$rc" "$(cat "$LOGS/$name.seconds" 2>/dev/null || echo '?')"
    unset "JOB_NAME[$pid]"
  done
}

# On any exit (an interrupt, a failure of this script itself): stop what still runs, whole.
stop_jobs() {
  local pid
  for pid in "${!JOB_NAME[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${!JOB_NAME[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if declare -F stop_postgres >/dev/null; then stop_postgres; fi
}

steps_end() {
  if ((${#FAILED[@]})); then
    step "FAILED: ${FAILED[*]} (their output: $LOGS/)"
    return 1
  fi
  step "all checks passed in $((SECONDS - STARTED)) s"
}
