#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is needed, build, and
# run the main job on the built-in defaults — the simulator comparing policies
# on the bundled real workload and cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh build -DSUANLI_TESTS=OFF -DSUANLI_BENCH=OFF
exec ./build/suanli sim --out out/default "$@"
