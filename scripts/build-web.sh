#!/usr/bin/env bash
# Builds the web dashboard (web/) into web/dist, which the build compiles into
# the suanli binary. Installs the npm packages of web/package-lock.json first
# (npm ci), unless web/node_modules already holds exactly that lock file's
# packages, and rebuilds only when a source is newer than web/dist.
# Usage: scripts/build-web.sh [--force]
set -euo pipefail
cd "$(dirname "$0")/../web"

force=0
[[ "${1:-}" == --force ]] && force=1

fail() { echo "build-web: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || fail "node is not installed (Node.js 20.19 or newer is needed; scripts/install-deps.sh installs it)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed (scripts/install-deps.sh installs it)"
node -e '
  const [maj, min] = process.versions.node.split(".").map(Number);
  if (maj < 20 || (maj === 20 && min < 19)) {
    console.error(`build-web: Node.js ${process.versions.node} is too old: the dashboard build (Vite 7) needs 20.19 or newer`);
    process.exit(1);
  }' || exit 1

# npm ci when node_modules was not installed from this very lock file.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.suanli-lock-sha256
if [[ $force == 1 || ! -f $stamp || "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  echo "build-web: installing npm packages (npm ci)"
  if ! npm ci --no-audit --no-fund; then
    fail "npm ci failed in web/: check the network access to the npm registry, or that package-lock.json matches package.json (npm install in web/ regenerates it)"
  fi
  echo "$lock_sum" > "$stamp"
else
  echo "build-web: npm packages are up to date"
fi

# Rebuild when dist is missing or any input is newer than it.
if [[ $force == 0 && -f dist/index.html ]] &&
   [[ -z $(find index.html package.json package-lock.json tsconfig.json vite.config.ts src public ../data/api \
             -newer dist/index.html -print -quit 2>/dev/null) ]]; then
  echo "build-web: web/dist is up to date"
  exit 0
fi
echo "build-web: building the dashboard (npm run build)"
if ! npm run build; then
  fail "the dashboard did not build (type errors or a Vite failure above); web/dist is incomplete"
fi
[[ -f dist/index.html ]] || fail "npm run build wrote no dist/index.html"
echo "build-web: built web/dist ($(find dist -type f | wc -l) files)"
