#!/usr/bin/env bash
# Run every test of jupyter-mlops: lint, pytest (SQLite and a real PostgreSQL server that
# the tests start), and the Galata UI tests in headless Chromium. Installs what is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\n==> %s\n' "$*"; }

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/install.sh --system
else
  bash scripts/install.sh
fi

log "ruff"
ruff check .
ruff format --check .

log "pytest"
python -m pytest -q -p no:cacheprovider "$@"

log "UI tests (Galata)"
bash scripts/ui-tests.sh
