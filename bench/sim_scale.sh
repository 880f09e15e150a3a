#!/usr/bin/env bash
# Simulator scale benchmark: generate N jobs fitted to the real traces and
# replay them on uniform-100k (100,000 accelerators) with EASY backfill.
# Prints wall time and peak memory of `suanli sim` (import + simulation +
# table) for each run, then the median.
#
# usage: bench/sim_scale.sh [JOBS=1000000] [RUNS=3] [POLICY=fifo+easy] [LOAD=0.8]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-1000000}
runs=${2:-3}
policy=${3:-fifo+easy}
load=${4:-0.8}
bin=./build/suanli
[[ -x $bin ]] || { echo "build first: bash scripts/build.sh" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "generating $jobs jobs..." >&2
/usr/bin/time -f "gen: %e s wall, %M KB peak" $bin gen -q --jobs "$jobs" --seed 1 --load "$load" --out "$work/w.csv" 2>&1 >&2 | tail -1 >&2
times=()
for i in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -o "$work/time" $bin sim -q --workload "$work/w.csv" --format native \
    --network uniform-100k --policy "$policy" > "$work/table"
  read -r wall kb < "$work/time"
  times+=("$wall")
  echo "run $i: ${wall} s wall, $((kb / 1024)) MiB peak" >&2
done
cat "$work/table"
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "jobs=$jobs load=$load policy=$policy runs=$runs median_wall_s=$median peak_mib=$((kb / 1024))"
