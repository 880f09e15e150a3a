#!/usr/bin/env bash
# The full packing grid of the FGD paper: 6 placement policies x 17 openb
# workloads x seeds 42-51 (1,020 runs) through `suanli pack`; prints the wall
# time and the CPU time (other processes on the machine lengthen the wall time;
# the load average is shown with it).
#
# Usage: bench/pack_grid.sh [SUANLI_BINARY] [OUT_DIR] [THREADS]
#   SUANLI_BINARY  default: build/suanli (build it as Release or RelWithDebInfo)
#   OUT_DIR        default: a temporary directory (removed afterwards)
#   THREADS        default: all cores
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/build/suanli}"
out="${2:-}"
threads="${3:-0}"
csv="$root/data/traces/alibaba-gpu-v2023-openb/csv"
[[ -x "$bin" ]] || { echo "pack_grid.sh: no suanli binary at $bin" >&2; exit 2; }
cleanup=""
if [[ -z "$out" ]]; then out="$(mktemp -d)"; cleanup="$out"; fi
mkdir -p "$out"
trap 'if [[ -n "$cleanup" ]]; then rm -rf "$cleanup"; fi' EXIT

files=""
for w in default cpu050 cpu100 cpu200 cpu250 gpushare40 gpushare60 gpushare80 gpushare100 \
         gpuspec10 gpuspec20 gpuspec25 gpuspec33 multigpu20 multigpu30 multigpu40 multigpu50; do
  files+="${files:+,}$csv/openb_pod_list_$w.csv.gz"
done
TIMEFORMAT="%R %U %S"
if ! { time "$bin" pack --nodes "$csv/openb_node_list_gpu_node.csv.gz" --pods "$files" \
    --policy random,dot-product,gpu-clustering,gpu-packing,best-fit,fgd \
    --seeds 42-51 --tune 1.3 --threads "$threads" --out "$out" --quiet > "$out/table.txt" ; } 2> "$out/time.txt"; then
  cat "$out/time.txt" >&2
  exit 1
fi
read -r wall user sys < <(tail -n 1 "$out/time.txt")
rows=$(($(wc -l < "$out/pack.csv") - 1))
if [[ -z "$cleanup" ]]; then echo "pack grid: table in $out/table.txt, rows in $out/pack.csv"; fi
echo "pack grid: 17 workloads x 6 policies x 10 seeds, $rows rows: ${wall} s wall, ${user} s user CPU, ${sys} s system CPU (load average $(cut -d' ' -f1 /proc/loadavg))"
