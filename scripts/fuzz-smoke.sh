#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang into build-fuzz and runs each
# one for a short time from its seed corpus (fuzz/corpus/<target>/). Fails if
# any target finds a crash, a sanitizer report, a leak or a timeout.
#
#   FUZZ_SECONDS   seconds per target (default 10)
#   FUZZ_TARGETS   space-separated subset of targets (default: all)
#   BUILD_DIR      build folder (default: <repo>/build-fuzz)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
SECS=${FUZZ_SECONDS:-10}

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DSUANLI_FUZZ=ON -DSUANLI_TESTS=OFF -DSUANLI_BENCH=OFF >/dev/null
ninja -C "$BUILD" suanli_fuzz

targets=${FUZZ_TARGETS:-}
if [[ -z "$targets" ]]; then
  targets=$(cd "$BUILD/fuzz" && ls fuzz_* | sort)
fi

mkdir -p "$BUILD/fuzz-work"
failed=()
for t in $targets; do
  bin="$BUILD/fuzz/$t"
  if [[ ! -x "$bin" ]]; then
    echo "fuzz-smoke: no such target: $t" >&2
    failed+=("$t")
    continue
  fi
  work="$BUILD/fuzz-work/$t"
  mkdir -p "$work/corpus" "$work/artifacts"
  seeds=()
  [[ -d "$ROOT/fuzz/corpus/$t" ]] && seeds=("$ROOT/fuzz/corpus/$t")
  log="$work/log.txt"
  printf 'fuzz-smoke: %-32s ' "$t"
  if "$bin" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$work/artifacts/" "$work/corpus" "${seeds[@]}" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    echo "ok (${runs:-?} runs)"
  else
    echo "FAILED (log: $log)"
    grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' "$log" | head -20 || tail -20 "$log"
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz-smoke: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-smoke: all targets ran ${SECS}s without findings"
