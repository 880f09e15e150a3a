#!/usr/bin/env bash
# Configures and builds Suanli. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# With npm present, the web dashboard is built first (scripts/build-web.sh)
# so that the server binary embeds it; without npm the build goes on and the
# server serves a page that says the dashboard was not built
# (SUANLI_SKIP_WEB=1 leaves the dashboard build out on purpose).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
if [[ "${SUANLI_SKIP_WEB:-0}" == 1 ]]; then
  echo "build: SUANLI_SKIP_WEB=1: the web dashboard is not rebuilt" >&2
elif command -v npm >/dev/null 2>&1; then
  bash scripts/build-web.sh
else
  echo "build: warning: npm not found, the web dashboard is not built (install Node.js and npm, then run scripts/build-web.sh and build again)" >&2
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$dir"
