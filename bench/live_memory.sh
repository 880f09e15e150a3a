#!/usr/bin/env bash
# The server's memory with 1,000,000 jobs in its store, and whether listing
# stays fast.
#
#   bench/live_memory.sh [BUILD_DIR]            (default: <repo>/build)
#
#   JOBS   jobs to put in the store (default 1000000)
#
# 1. `suanli serve` starts once on a fresh data directory (tiny network, the
#    admin from SUANLI_ADMIN_TOKEN) and stops: the store and its schema exist.
# 2. `live_submit --fill-store` writes JOBS finished jobs (succeeded, with
#    metering; four tenants, two centers) straight into the store with the
#    store's own API (group-committed inserts), which is much faster than
#    JOBS HTTP submissions; the server is stopped meanwhile.
# 3. The server starts again on that directory. Reported: start-up time, the
#    store's size, VmRSS and VmHWM (peak) of the server after start-up and
#    after the requests below, and the median time of GET /api/v1/jobs?limit=100
#    (newest first), of a page deep in the history (before=JOBS/2), of a
#    state-filtered page, and of GET /api/v1/usage over all the jobs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
JOBS=${JOBS:-1000000}
SUANLI=$BUILD/suanli
LIVE_SUBMIT=$BUILD/bench/live_submit
for b in "$SUANLI" "$LIVE_SUBMIT"; do
  [[ -x $b ]] || { echo "live_memory: $b not built (ninja -C $BUILD suanli live_submit)" >&2; exit 1; }
done
command -v curl >/dev/null || { echo "live_memory: curl not found" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/suanli-live-memory.XXXXXX")
data=$work/data
token=memory-bench-admin-token
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

start_server() {
  port=$(( 20000 + RANDOM % 20000 ))
  url=http://127.0.0.1:$port
  local t0
  t0=$(now_ms)
  SUANLI_ADMIN_TOKEN=$token "$SUANLI" serve --listen "127.0.0.1:$port" --data "$data" --network tiny \
    --access-log off --log-level warn >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 1200); do
    curl -sf "$url/api/v1/health" >/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
  done
  startup_ms=$(( $(now_ms) - t0 ))
}

stop_server() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.0f MiB  ", $1, $2/1024}' "/proc/$server_pid/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status"; }

# Median wall time (ms) of 7 GETs of a path; checks the answer is 200 JSON.
timed_get() {
  local path=$1 times=() code
  for _ in 1 2 3 4 5 6 7; do
    read -r code t < <(curl -s -o "$work/answer" -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $token" "$url$path")
    [[ $code == 200 ]] || { echo "live_memory: GET $path answered $code: $(head -c 300 "$work/answer")" >&2; exit 1; }
    times+=("$(awk -v t="$t" 'BEGIN { printf "%.2f", t * 1000 }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
start_server
stop_server
t0=$(now_ms)
"$LIVE_SUBMIT" --fill-store "$data/suanli.db" --jobs "$JOBS" --threads 16
echo "fill: $(( ($(now_ms) - t0) / 1000 )) s; store $(du -sh "$data" | cut -f1)"

start_server
echo "restart with $JOBS jobs: healthy after $startup_ms ms; $(mem)"
newest=$(timed_get "/api/v1/jobs?limit=100")
count=$(grep -o '"id":' "$work/answer" | wc -l)
deep=$(timed_get "/api/v1/jobs?limit=100&before=$(( JOBS / 2 ))")
state=$(timed_get "/api/v1/jobs?limit=100&state=succeeded&center=west")
tenant=$(timed_get "/api/v1/jobs?limit=100&tenant=carol")
usage=$(timed_get "/api/v1/usage")
echo "GET /api/v1/jobs?limit=100: $newest ms ($count jobs listed)"
echo "GET /api/v1/jobs?limit=100&before=$(( JOBS / 2 )): $deep ms"
echo "GET /api/v1/jobs?limit=100&state=succeeded&center=west: $state ms"
echo "GET /api/v1/jobs?limit=100&tenant=carol: $tenant ms"
echo "GET /api/v1/usage (all $JOBS jobs): $usage ms"
echo "after the requests: $(mem)"
hwm=$(hwm_kib)
if (( hwm < 1024 * 1024 )); then
  echo "peak RSS $(( hwm / 1024 )) MiB < 1 GiB: met"
else
  echo "peak RSS $(( hwm / 1024 )) MiB >= 1 GiB: NOT met"
fi
stop_server
