#!/usr/bin/env bash
# Run every test of jupyter-mlops: lint (ruff, eslint, prettier), the generated-file checks
# (openapi.yaml, src/schema.d.ts), jest, pytest (SQLite and a real PostgreSQL server that the
# tests start), and the Galata UI tests in headless Chromium. Installs what is missing.
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

logs="$(mktemp -d)"
log "the API description and its TypeScript types are generated, not edited"
python -m jupyter_mlops.server.openapi --check
jlpm build:schema:check

log "eslint, prettier"
jlpm lint:check

log "jest (frontend unit tests)"
jlpm test 2>&1 | tee "$logs/jest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

log "pytest"
python -m pytest -q -p no:cacheprovider "$@" 2>&1 | tee "$logs/pytest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

log "UI tests (Galata)"
bash scripts/ui-tests.sh 2>&1 | tee "$logs/ui.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

# One closing line for both runners (both succeeded if we got here).
passed() { grep -Eo '[0-9]+ passed' "$1" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
skipped() { grep -Eo '[0-9]+ skipped' "$1" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
total=$(( $(passed "$logs/jest.log") + $(passed "$logs/pytest.log") + $(passed "$logs/ui.log") ))
echo "tests: ${total} passed, 0 failed, $(( $(skipped "$logs/pytest.log") + $(skipped "$logs/ui.log") )) skipped"
