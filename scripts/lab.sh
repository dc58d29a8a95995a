#!/usr/bin/env bash
# Install jupyter-mlops and start JupyterLab with it (run store: SQLite in the Jupyter data dir).
# Extra arguments go to `jupyter lab` (e.g. --port 9999, --ServerApp.root_dir=...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/install.sh"
extra=()
[ "$(id -u)" -eq 0 ] && extra+=(--allow-root)
cd "$ROOT"
exec jupyter lab "${extra[@]}" "$@"
