#!/usr/bin/env bash
# Start JupyterLab with jupyter-mlops (run store: SQLite in the Jupyter data dir), installing it
# first only when it is missing or its sources changed since the last install (a stamp of the
# files that decide the install), so a plain restart takes seconds, not a rebuild.
# Extra arguments go to `jupyter lab` (e.g. --port 9999, --ServerApp.root_dir=...).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

stamp_file="$ROOT/.install-stamp"
current_stamp() {
  # What an install builds from: the Python and npm manifests, the frontend sources, the
  # install script itself. Python code changes need no reinstall (the install is editable).
  { cat pyproject.toml package.json yarn.lock scripts/install.sh
    find src style schema -type f -print0 | sort -z | xargs -0 cat
  } | sha256sum | cut -d' ' -f1
}
installed() {
  python -c "import jupyter_mlops" >/dev/null 2>&1 \
    && [ -f jupyter_mlops/labextension/static/style.js ] \
    && jupyter labextension list 2>&1 | grep -q 'jupyter-mlops.*enabled'
}
stamp="$(current_stamp)"
if ! installed || [ "$(cat "$stamp_file" 2>/dev/null)" != "$stamp" ]; then
  bash "$ROOT/scripts/install.sh"
  # The editable install skips the frontend build when one exists: rebuild what changed.
  jlpm build >/dev/null
  echo "$stamp" > "$stamp_file"
fi

extra=()
[ "$(id -u)" -eq 0 ] && extra+=(--allow-root)
exec jupyter lab "${extra[@]}" "$@"
