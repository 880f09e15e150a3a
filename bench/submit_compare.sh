#!/usr/bin/env bash
# Submission rate of Slurm (sbatch) and of Suanli (POST /api/v1/jobs) under the
# same load, side by side, in one run on this machine.
#
#   bench/submit_compare.sh [BUILD_DIR]          (default: <repo>/build)
#
#   SECONDS_PER_RUN  length of one measured run (default 10)
#   RUNS             runs per system; the median run is reported (default 3)
#   CLIENTS          concurrent clients (default 16)
#
# Slurm: a real local cluster (scripts/slurm/start.sh, 2 nodes; stopped at the
# end). CLIENTS shell loops run `sbatch --parsable --hold --wrap true` back to
# back: held jobs are queued (and saved in slurmctld's state) but never run.
# A submission counts when sbatch exits 0 and prints a job id; its latency is
# the sbatch command's wall time (what a user or a script pays per job). The
# held jobs are cancelled between runs (Slurm's MaxJobCount is 10000).
#
# Suanli: `suanli serve` on the built-in `tiny` network, whose centers are
# simulated (nothing is executed: jobs are stored, dispatched and "run" only in
# the control plane's books), durable (201 only once the job is committed with
# fsync). live_submit runs CLIENTS threads, one keep-alive connection each,
# posting {"command":["true"],"cpu_milli":100,"mem_mib":64,"duration_s":3600}.
# A fresh data directory per run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
SECS=${SECONDS_PER_RUN:-10}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-16}
SUANLI=$BUILD/suanli
LIVE_SUBMIT=$BUILD/bench/live_submit
for b in "$SUANLI" "$LIVE_SUBMIT"; do
  [[ -x $b ]] || { echo "submit_compare: $b not built (ninja -C $BUILD suanli live_submit)" >&2; exit 1; }
done
for c in sbatch scancel squeue awk sort curl; do
  command -v "$c" >/dev/null || { echo "submit_compare: $c not found" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/suanli-submit-compare.XXXXXX")
chmod 0755 "$work"  # munge (another user) must reach the Slurm state directory
slurm_dir=$work/slurm
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  bash "$ROOT/scripts/slurm/stop.sh" "$slurm_dir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print 0}'; }

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "load: $CLIENTS concurrent clients, $RUNS runs of $SECS s per system (median run reported)"
echo

# ---------------------------------------------------------------- Slurm
bash "$ROOT/scripts/slurm/start.sh" "$slurm_dir" --nodes 2 >/dev/null
# shellcheck disable=SC1091
. "$slurm_dir/env"

slurm_run() {  # prints "rate p50_ms p99_ms ok failed"
  local out=$work/sbatch.$1
  mkdir -p "$out"
  local end=$(( $(date +%s%N) + SECS * 1000000000 ))
  local pids=()
  for ((c = 0; c < CLIENTS; c++)); do
    (
      while :; do
        t0=$(date +%s%N)
        ((t0 < end)) || break
        if id=$(sbatch --parsable --hold --job-name bench --output /dev/null --wrap true 2>/dev/null) && [[ $id =~ ^[0-9]+ ]]; then
          echo "$(( $(date +%s%N) - t0 )) ok"
        else
          echo "$(( $(date +%s%N) - t0 )) fail"
        fi
      done >"$out/$c"
    ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  cat "$out"/* >"$out/all"
  awk '$2 == "ok" { print $1 / 1e6 }' "$out/all" | sort -g >"$out/lat"
  awk -v secs="$SECS" '$2 == "ok" { n++ } $2 == "fail" { f++ } END { printf "%.1f %d %d\n", n / secs, n, f }' \
    "$out/all" >"$out/summary"
  local p50 p99
  p50=$(awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int((NR-1)*0.50)+1]; else print 0}' "$out/lat")
  p99=$(awk '{a[NR]=$1} END {if (NR) printf "%.2f", a[int((NR-1)*0.99)+1]; else print 0}' "$out/lat")
  read -r rate n f <"$out/summary"
  echo "$rate $p50 $p99 $n $f"
  scancel --quiet --state=PENDING --user "$(id -un)" 2>/dev/null || true
  # Wait until the queue is empty again before the next run.
  for _ in $(seq 1 100); do
    [[ -z $(squeue -h -t all -o %i 2>/dev/null | head -1) ]] && break
    sleep 0.2
  done
}

slurm_rates=() slurm_p50=() slurm_p99=()
for ((r = 1; r <= RUNS; r++)); do
  read -r rate p50 p99 n f < <(slurm_run "$r")
  echo "slurm  run $r: $n submitted ($f failed) in ${SECS} s: $rate/s  p50 $p50 ms  p99 $p99 ms"
  slurm_rates+=("$rate"); slurm_p50+=("$p50"); slurm_p99+=("$p99")
done
bash "$ROOT/scripts/slurm/stop.sh" "$slurm_dir" >/dev/null 2>&1 || true

# ---------------------------------------------------------------- Suanli
token=bench-admin-token
suanli_rates=() suanli_p50=() suanli_p99=()
for ((r = 1; r <= RUNS; r++)); do
  port=$(( 20000 + RANDOM % 20000 ))
  data=$work/suanli-data.$r
  SUANLI_ADMIN_TOKEN=$token "$SUANLI" serve --listen "127.0.0.1:$port" --data "$data" --network tiny \
    --access-log off --log-level warn >"$work/server.$r.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.$r.log" >&2; exit 1; }
    sleep 0.1
  done
  line=$("$LIVE_SUBMIT" --url "http://127.0.0.1:$port" --token "$token" --threads "$CLIENTS" --seconds "$SECS" --json | tail -1)
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  rate=$(sed -E 's/.*"rate":([0-9.eE+-]+).*/\1/' <<<"$line")
  p50=$(sed -E 's/.*"p50_ms":([0-9.eE+-]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.*"p99_ms":([0-9.eE+-]+).*/\1/' <<<"$line")
  acked=$(sed -E 's/.*"acked":([0-9]+).*/\1/' <<<"$line")
  printf 'suanli run %d: %d acknowledged in %s s: %.1f/s  p50 %.2f ms  p99 %.2f ms\n' "$r" "$acked" "$SECS" "$rate" "$p50" "$p99"
  suanli_rates+=("$rate"); suanli_p50+=("$p50"); suanli_p99+=("$p99")
done

s_rate=$(printf '%s\n' "${slurm_rates[@]}" | median)
s_p50=$(printf '%s\n' "${slurm_p50[@]}" | median)
s_p99=$(printf '%s\n' "${slurm_p99[@]}" | median)
q_rate=$(printf '%s\n' "${suanli_rates[@]}" | median)
q_p50=$(printf '%s\n' "${suanli_p50[@]}" | median)
q_p99=$(printf '%s\n' "${suanli_p99[@]}" | median)
echo
printf '%-34s %12s %10s %10s\n' "system ($CLIENTS clients, median of $RUNS)" "submits/s" "p50 ms" "p99 ms"
printf '%-34s %12.1f %10.2f %10.2f\n' "Slurm sbatch --hold" "$s_rate" "$s_p50" "$s_p99"
printf '%-34s %12.1f %10.2f %10.2f\n' "Suanli POST /api/v1/jobs (durable)" "$q_rate" "$q_p50" "$q_p99"
awk -v a="$q_rate" -v b="$s_rate" 'BEGIN { if (b > 0) printf "ratio Suanli/Slurm: %.1fx\n", a / b; else print "ratio: Slurm accepted nothing" }'
