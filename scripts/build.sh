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
# ccache, where installed, makes rebuilds of unchanged files (another build
# folder, another checkout) a cache hit; SUANLI_NO_CCACHE=1 leaves it out.
launcher=()
if [[ "${SUANLI_NO_CCACHE:-0}" != 1 ]] && command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${launcher[@]}" "$@" \
  >/dev/null
ninja -C "$dir"
