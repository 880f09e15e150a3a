#!/usr/bin/env bash
# Rewrites the record schemas of data/api/openapi.json (JobSpec, ...) from the
# records' tables of fields (src/live/record_schema.cc), with the suanli
# binary of a build folder; then rebuild the dashboard (scripts/build-web.sh)
# to regenerate its TypeScript types (web/src/api.gen.ts).
# Usage: scripts/gen-openapi.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
[[ -x $build/suanli ]] || { echo "gen-openapi: $build/suanli is not built (ninja -C $build suanli)" >&2; exit 1; }
"$build/suanli" api-schema --write data/api/openapi.json
git diff --stat -- data/api/openapi.json
