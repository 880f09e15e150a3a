#!/usr/bin/env bash
# One command on a fresh Debian 12 machine: install what is needed, build, and
# run every test: the code style (clang-format, .clang-format), static checks
# (clang-tidy, .clang-tidy), the unit,
# conformance, scenario, golden-output and importer tests (CTest),
# the same suite again under AddressSanitizer + UBSan, and a short run of every
# libFuzzer target. Environment: FUZZ_SECONDS (default 10 per target),
# SKIP_SANITIZE=1 / SKIP_FUZZ=1 to leave those stages out locally.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc)
# A compiler cache gains nothing in a one-off run from a fresh clone (the
# normal, sanitizer and fuzz builds differ in flags) and would hold gigabytes
# of disk; SUANLI_NO_CCACHE=0 keeps it for repeated runs by hand.
export SUANLI_NO_CCACHE=${SUANLI_NO_CCACHE:-1}
# Each test's time limit (the tests set none of their own, so that
# `ctest --timeout N` by hand is obeyed too).
timeout_s=${TEST_TIMEOUT_S:-600}

echo "== code style (.clang-format)"
find src apps tests bench fuzz \( -name '*.cc' -o -name '*.h' \) -print0 | xargs -0 clang-format --dry-run --Werror

echo "== build and test (RelWithDebInfo, -Werror)"
bash scripts/build.sh build -DSUANLI_WERROR=ON

echo "== static checks (.clang-tidy) on src/, apps/, tests/ and bench/"
run-clang-tidy -p build -j "$jobs" -quiet -extra-arg=-Wno-unknown-warning-option "$(pwd)/(src|apps|tests|bench)/" >build/clang-tidy.log 2>&1 ||
  { grep -E "(warning|error): " build/clang-tidy.log | sort -u; echo "clang-tidy found the above (build/clang-tidy.log)"; exit 1; }
ctest --test-dir build --output-on-failure --timeout "$timeout_s" -j "$jobs"

if [[ "${SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "== build and test with AddressSanitizer + UBSan"
  bash scripts/build.sh build-asan -DSUANLI_WERROR=ON -DSUANLI_SANITIZE=ON -DSUANLI_BENCH=OFF -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG=-g1
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure --timeout "$timeout_s" -j "$jobs"
fi

if [[ "${SKIP_FUZZ:-0}" != 1 ]]; then
  echo "== fuzz smoke"
  bash scripts/fuzz-smoke.sh
fi
echo "== all tests passed"
