#!/usr/bin/env bash
# Accuracy of start-time estimates, Suanli beside Slurm's own (issue 12):
# one workload run at once on two real local Slurm clusters of the same shape
# (scripts/slurm/start.sh), through Suanli on the first and straight to Slurm
# on the second; each job's first estimate while pending against its actual
# start (bench/live_estimates.cc says how).
#
#   bench/estimate_compare.sh [BUILD_DIR]          (default: <repo>/build)
#
#   JOBS      jobs of the workload (default 40)
#   SPAN_S    seconds the arrivals are compressed to (default 300)
#   NODES     nodes per cluster (default 2), GPUS per node (default 4)
#   LOAD      offered load of the generated workload (default 1.2)
#   SEED      workload seed (default 1)
#   PROFILE   suanli gen profile (default philly)
#   DEADLINE_S  jobs not started by then are counted unfinished (default 1800)
#   OUT       per-job CSV (default: none)
#
# Exits 1 if a submission failed or a job did not start by the deadline.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
JOBS=${JOBS:-40}
SPAN_S=${SPAN_S:-300}
NODES=${NODES:-2}
GPUS=${GPUS:-4}
LOAD=${LOAD:-1.2}
SEED=${SEED:-1}
PROFILE=${PROFILE:-philly}
DEADLINE_S=${DEADLINE_S:-1800}
for b in "$BUILD/suanli" "$BUILD/bench/live_estimates"; do
  [[ -x $b ]] || { echo "estimate_compare: $b not built (ninja -C $BUILD suanli live_estimates)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/suanli-estimates.XXXXXX")
chmod 0755 "$work"  # munge (another user) must reach the Slurm state directories
cleanup() {
  for c in via direct; do bash "$ROOT/scripts/slurm/stop.sh" "$work/$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "workload: suanli gen --profile $PROFILE --jobs $JOBS --gpus $((NODES * GPUS)) --load $LOAD --seed $SEED," \
  "arrivals over $SPAN_S s; two clusters of $NODES nodes x $GPUS GPUs"
"$BUILD/suanli" gen --profile "$PROFILE" --jobs "$JOBS" --gpus $((NODES * GPUS)) --load "$LOAD" --seed "$SEED" \
  --out "$work/workload.csv" -q
bash "$ROOT/scripts/slurm/start.sh" "$work/via" --name estvia --nodes "$NODES" --gpus "$GPUS" >/dev/null
bash "$ROOT/scripts/slurm/start.sh" "$work/direct" --name estdirect --nodes "$NODES" --gpus "$GPUS" >/dev/null
"$BUILD/bench/live_estimates" --workload "$work/workload.csv" --suanli-conf "$work/via/etc/slurm.conf" \
  --slurm-conf "$work/direct/etc/slurm.conf" --dir "$work/run" --jobs "$JOBS" --span-s "$SPAN_S" \
  --max-gpus "$GPUS" --deadline-s "$DEADLINE_S" --out "${OUT:-/dev/null}"
