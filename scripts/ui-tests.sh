#!/usr/bin/env bash
# Run the Galata (Playwright) UI tests of jupyter-mlops.
#
# Idempotent; meant for a fresh Debian machine running as root, with the
# Python package already installed (`pip install -e ".[test]"`):
#   1. installs Debian's chromium if /usr/bin/chromium is missing
#      (`npx playwright install` cannot download browsers on our machines);
#   2. checks that the jupyter-mlops labextension is installed, linking it with
#      `jupyter labextension develop` when it is built but not linked (absent,
#      or a copy frozen by `pip install -e .`: the tests must load this build);
#   3. installs ui-tests/ node dependencies (with CI set, from the committed
#      ui-tests/yarn.lock only);
#   4. runs the Playwright tests; extra arguments are passed on to
#      `playwright test`.
# Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

log() { printf '\n==> %s\n' "$*"; }

# 1. Browser -----------------------------------------------------------------
CHROMIUM="${PLAYWRIGHT_CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  log "Installing chromium with apt-get"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: $CHROMIUM is missing and installing it needs root" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends chromium
fi
"$CHROMIUM" --version

# 2. The extension under test --------------------------------------------------
extension_listed() {
  jupyter labextension list 2>&1 | grep -q 'jupyter-mlops.*enabled'
}
# `pip install -e .` copies the labextension as built at install time into
# share/jupyter/labextensions (hatch shared-data); that frozen copy is what the
# server would serve, whatever `jlpm build` wrote since. Link the build instead.
linked_build() {
  local installed
  installed="$(python -c 'import os, sys; print(os.path.join(sys.prefix, "share", "jupyter", "labextensions", "jupyter-mlops"))')"
  [ -L "$installed" ] &&
    [ "$(readlink -f "$installed")" = "$(readlink -f jupyter_mlops/labextension)" ]
}
if [ -f jupyter_mlops/labextension/package.json ] && ! linked_build; then
  log "Linking the built labextension over the installed copy (jupyter labextension develop)"
  jupyter labextension develop --overwrite .
fi
if ! extension_listed; then
  if [ -f jupyter_mlops/labextension/package.json ]; then
    log "Linking the built labextension (jupyter labextension develop)"
    jupyter labextension develop --overwrite .
  fi
  if ! extension_listed; then
    echo "error: the jupyter-mlops labextension is not installed;" \
      "run 'pip install -e .' first" >&2
    exit 1
  fi
fi

# 3. Node dependencies of ui-tests ---------------------------------------------
cd "$ROOT/ui-tests"
if [ -n "${CI:-}" ]; then
  if [ ! -s yarn.lock ]; then
    echo "error: ui-tests/yarn.lock is missing or empty; it must be committed" >&2
    exit 1
  fi
  log "jlpm install --immutable (ui-tests)"
  jlpm install --immutable
else
  log "jlpm install (ui-tests)"
  jlpm install
fi

# 4. Tests -------------------------------------------------------------------
log "playwright test"
exec jlpm playwright test "$@"
