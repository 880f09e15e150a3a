#!/usr/bin/env bash
# /api/v1/health latency and durable submissions per second of `suanli serve`
# with and without attacking clients (bench/live_http_attack.cc), for one or
# more server binaries side by side: each run starts a fresh server (network
# `tiny`, durable store, access log off) and runs live_http_attack against it.
#
#   bench/http_attack.sh [BUILD_DIR] [OTHER_SUANLI_BINARY...]
#
#   RUNS      runs per binary, alternating between binaries (default 3)
#   SECONDS_PER_RUN, CLIENTS, IDLE, SLOW, HEALTH, HEALTH_BUDGET: live_http_attack's --seconds
#             (10), --threads (16), --idle (2000), --slow (500), --health (500),
#             --health-budget-s (60)
# Prints one JSON line per phase and run, each with the binary it measured.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
shift || true
BINS=("$BUILD/suanli" "$@")
ATTACK=${ATTACK:-$BUILD/bench/live_http_attack}
[[ -x $ATTACK ]] || { echo "http_attack: $ATTACK not built (ninja -C $BUILD live_http_attack)" >&2; exit 1; }
RUNS=${RUNS:-3}
TOKEN=bench-admin-token-0123456789abcdef
work=$(mktemp -d "${TMPDIR:-/tmp}/suanli-http-attack.XXXXXX")
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq 1 "$RUNS"); do
  for bin in "${BINS[@]}"; do
    data=$work/data-$run-$RANDOM
    out=$data.out
    SUANLI_ADMIN_TOKEN=$TOKEN "$bin" serve --listen 127.0.0.1:0 --data "$data" --network tiny \
      --access-log off --log-level warn >"$out" 2>&1 &
    server_pid=$!
    url=
    for _ in $(seq 1 200); do
      url=$(grep -o "http://127.0.0.1:[0-9]*" "$out" 2>/dev/null | head -1 || true)
      [[ -n $url ]] && break
      sleep 0.05
    done
    [[ -n $url ]] || { echo "http_attack: $bin did not start:" >&2; cat "$out" >&2; exit 1; }
    "$ATTACK" --url "$url" --token "$TOKEN" --json --seconds "${SECONDS_PER_RUN:-10}" --threads "${CLIENTS:-16}" \
      --idle "${IDLE:-2000}" --slow "${SLOW:-500}" --health "${HEALTH:-500}" --health-budget-s "${HEALTH_BUDGET:-60}" |
      while read -r line; do echo "{\"binary\":\"$bin\",\"run\":$run,${line#\{}"; done
    t0=$(date +%s.%N)
    kill -TERM "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    echo "{\"binary\":\"$bin\",\"run\":$run,\"sigterm_exit_s\":$(printf %.3f "$(echo "$(date +%s.%N) - $t0" | bc)")}"
    server_pid=
    rm -rf "$data"
  done
done
