#!/usr/bin/env bash
# The golden outputs (tests/golden/): fixed runs of the simulator whose
# output files must stay byte-identical through refactors.
#
#   bash scripts/golden.sh [check [NAME...]]   run each (or those named), compare
#                                              with tests/golden/NAME/sha256sums
#   bash scripts/golden.sh update [NAME...]    run them, rewrite the digests and the
#                                              kept files (tests/golden/NAME/keep)
#   bash scripts/golden.sh replay [NAME...]    run each `sim` run through `suanli replay`
#                                              (the live control plane) and compare with
#                                              `sim --single-node` on the same arguments
#                                              (the default run takes minutes)
#
# Each tests/golden/NAME/args holds the command's arguments, one per line,
# relative to the repository's root, with {out} for the output directory.
# A commit that changes a golden output says why (tests/golden/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-check}
shift || true
names=("$@")
if ((${#names[@]} == 0)); then
  for d in tests/golden/*/; do names+=("$(basename "$d")"); done
fi
bin=${SUANLI_BINARY:-./build/suanli}
[[ -x $bin ]] || { echo "golden.sh: $bin not found; build first (scripts/build.sh)" >&2; exit 2; }
case $mode in check | update | replay) ;; *) echo "usage: golden.sh [check|update|replay]" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
if [[ $mode == replay ]]; then
  for name in "${names[@]}"; do
    dir=tests/golden/$name
    [[ -f $dir/args ]] || { echo "golden.sh: no golden run '$name' (tests/golden/$name/args)" >&2; exit 2; }
    mapfile -t sim < <(sed "s|{out}|$tmp/$name.sim|g" "$dir/args")
    mapfile -t replay < <(sed "s|{out}|$tmp/$name.replay|g" "$dir/args")
    [[ ${sim[0]} == sim ]] || { echo "$name: not a sim run; skipped"; continue; }
    "$bin" sim --single-node "${sim[@]:1}" > "$tmp/$name.sim.log" 2>&1 ||
      { echo "$name: sim failed:"; cat "$tmp/$name.sim.log"; exit 1; }
    "$bin" replay "${replay[@]:1}" > "$tmp/$name.replay.log" 2>&1 ||
      { echo "$name: replay failed:"; tail "$tmp/$name.replay.log"; exit 1; }
    if diff <(cd "$tmp/$name.sim" && sha256sum -- * | sort -k2) <(cd "$tmp/$name.replay" && sha256sum -- * | sort -k2) &&
      cmp -s "$tmp/$name.sim.log" "$tmp/$name.replay.log"; then
      echo "$name: replay equals sim --single-node"
    else
      echo "$name: replay DIFFERS from sim --single-node"
      status=1
    fi
  done
  exit $status
fi
for name in "${names[@]}"; do
  dir=tests/golden/$name
  [[ -f $dir/args ]] || { echo "golden.sh: no golden run '$name' (tests/golden/$name/args)" >&2; exit 2; }
  out="$tmp/$name"
  mapfile -t args < <(sed "s|{out}|$out|g" "$dir/args")
  "$bin" "${args[@]}" > "$tmp/$name.log" 2>&1 || { echo "$name: the run failed:"; cat "$tmp/$name.log"; exit 1; }
  sums=$(cd "$out" && sha256sum -- * | sort -k2)
  if [[ $mode == update ]]; then
    printf '%s\n' "$sums" > "$dir/sha256sums"
    for kept in $(cat "$dir/keep" 2>/dev/null); do cp "$out/$kept" "$dir/$kept"; done
    echo "$name: updated"
  elif [[ $sums == "$(cat "$dir/sha256sums")" ]]; then
    echo "$name: identical"
  else
    echo "$name: CHANGED"
    diff <(cat "$dir/sha256sums") <(printf '%s\n' "$sums") || true
    for kept in $(cat "$dir/keep" 2>/dev/null); do diff "$dir/$kept" "$out/$kept" | head -40 || true; done
    status=1
  fi
done
exit $status
