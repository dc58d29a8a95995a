#!/usr/bin/env bash
# Install jupyter-mlops (editable, with test extras) and everything it needs.
# Idempotent, for a fresh Debian machine as root or an existing environment.
#   scripts/install.sh          Python package + labextension
#   scripts/install.sh --system also Debian packages for the tests (PostgreSQL, Chromium, git)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\n==> %s\n' "$*"; }

if [ "${1:-}" = "--system" ]; then
  need=()
  command -v git >/dev/null || need+=(git)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    log "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${need[@]}"
  fi
fi

command -v node >/dev/null || { echo "error: Node.js is needed to build the labextension" >&2; exit 1; }

# torch: the CPU build is what we test with; a plain 'torch' requirement would pull a
# multi-GB CUDA build where none is installed yet.
if ! python -c "import torch" >/dev/null 2>&1; then
  log "pip install torch (CPU build)"
  pip install -q "torch==2.13.0" || pip install -q torch
fi

# A stale install.json left by 'jupyter labextension develop' breaks the next editable install.
rm -f jupyter_mlops/labextension/install.json
# The link 'jupyter labextension develop' leaves in share/jupyter/labextensions (scripts/ui-tests.sh
# makes one) would have pip write the labextension's files through it: remove it first.
installed="$(python -c 'import os, sys; print(os.path.join(sys.prefix, "share", "jupyter", "labextensions", "jupyter-mlops"))')"
if [ -L "$installed" ]; then rm "$installed"; fi
log "pip install -e .[test]"
pip install -q -e ".[test]"
jupyter server extension enable --sys-prefix jupyter_mlops >/dev/null
jupyter labextension list 2>&1 | grep -q 'jupyter-mlops.*enabled' \
  || jupyter labextension develop --overwrite . >/dev/null
jupyter labextension list 2>&1 | grep 'jupyter-mlops'
jupyter server extension list 2>&1 | grep 'jupyter_mlops'
