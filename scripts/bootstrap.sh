# Sourced by scripts/suite and scripts/test: make uv, the locked environment and a
# Chromium available on a fresh Debian machine that has only Python 3.11.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV_VERSION="0.13.8"

say() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root to run: $* (install it yourself, or run as root)"; return 1; fi
}

ensure_uv() {
  if [ -x "$ROOT/.tools/bin/uv" ]; then UV="$ROOT/.tools/bin/uv"; return; fi
  if command -v uv >/dev/null 2>&1; then
    # The README's commands call .tools/bin/uv: make it the uv already on PATH.
    mkdir -p "$ROOT/.tools/bin"
    ln -sf "$(command -v uv)" "$ROOT/.tools/bin/uv"
    UV="$ROOT/.tools/bin/uv"; return
  fi
  say "installing uv $UV_VERSION into .tools/ (from PyPI)"
  if ! python3 -m venv "$ROOT/.tools" >/dev/null 2>&1; then
    rm -rf "$ROOT/.tools"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
    python3 -m venv "$ROOT/.tools"
  fi
  "$ROOT/.tools/bin/python" -m pip install -q "uv==$UV_VERSION"
  UV="$ROOT/.tools/bin/uv"
}

ensure_env() {
  ensure_uv
  # --locked: the lock file must match pyproject.toml, never silently re-resolved.
  "$UV" sync --locked --quiet
}

have_chromium() {
  [ -n "${E2E_CHROMIUM:-}" ] && [ -x "${E2E_CHROMIUM}" ] && return 0
  command -v chromium >/dev/null 2>&1 && return 0
  # Playwright's own download, when someone could install it.
  compgen -G "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}/chromium*" >/dev/null 2>&1
}

ensure_chromium() {
  have_chromium && return 0
  say "installing Debian's chromium (Playwright cannot download its own browser here)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}

# Every pytest process (and each xdist worker) imports and assertion-rewrites hundreds of
# plugin modules; without the bytecode cache that costs seconds per process, every run.
unset PYTHONDONTWRITEBYTECODE

cd "$ROOT"
