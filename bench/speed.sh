#!/usr/bin/env bash
# Photo speed only, against deface 1.5.0, in an order that cancels a drifting
# host: deface, blindfold (defaults), blindfold --fast, then --fast, defaults,
# deface again (ABBA). On a shared VM the host's speed moves by 20-40% within
# minutes; bench/run.sh times deface once, before blindfold, so its ratios move
# with it (on 2026-12-06 three runs within an hour gave --fast 7.68x, 7.53x and
# 10.32x). Each tool's figure is its images over its seconds summed over both
# of its runs; each run is printed too, so the spread shows the noise.
#
#   bench/speed.sh [DATA_ROOT]     (default: ../shared/data/widerface-dev)
#
# Env: BLINDFOLD (binary, default target/release/blindfold, built if missing),
#      JOBS (blindfold --jobs), BF_ARGS / BF_FAST_ARGS (extra flags, as for
#      bench/run.sh), LIMIT (only the first N images: a smoke test). Every
#      tool writes its outputs (as users do), under bench/out/speed.
# About 5 minutes on a 2-core machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
data="${1:-$repo/../shared/data/widerface-dev}"
data="$(cd "$data" && pwd)"
work="$here/out/speed"
venv="$here/.venv"
bin="${BLINDFOLD:-$repo/target/release/blindfold}"
. "$here/setup.sh"
read -r -a bf_args <<< "${BF_ARGS:-}"
read -r -a bf_fast_args <<< "${BF_FAST_ARGS:-}"

rm -rf "$work"
mkdir -p "$work/in"
# deface writes next to its inputs and does not recurse: every tool gets the
# same flat copy (deface's outputs are deleted after each of its runs).
n=0
while IFS= read -r rel; do
  [ -n "$rel" ] || continue
  cp "$data/images/$rel" "$work/in/${rel//\//__}"
  n=$((n + 1))
done < <(head -n "${LIMIT:-1000000}" "$data/image_list.txt")
log "$n images from $data"

# seconds NAME COMMAND...: run it, print its wall time, append "NAME SECONDS".
seconds() {
  local name="$1"; shift
  local t0 t1
  t0="$(date +%s.%N)"
  "$@" > "$work/$name.log" 2>&1
  t1="$(date +%s.%N)"
  awk -v a="$t0" -v b="$t1" -v n="$name" -v k="$n" \
    'BEGIN { printf "%s %.2f\n", n, b - a > "/dev/stderr"; printf "%s %.3f %d\n", n, b - a, k }' \
    >> "$work/times.txt"
}
deface_run() {
  seconds deface "$venv/bin/deface" --thresh 0.2 --mask-scale 1.3 "$work/in"
  find "$work/in" -name '*_anonymized*' -delete
}
default_run() {
  rm -rf "$work/bf_default"
  seconds default "${bf[@]}" "${bf_args[@]}" -q -o "$work/bf_default" "$work/in"
}
fast_run() {
  rm -rf "$work/bf_fast"
  seconds fast "${bf[@]}" --fast "${bf_fast_args[@]}" -q -o "$work/bf_fast" "$work/in"
}

log "deface, defaults, --fast, --fast, defaults, deface"
deface_run
default_run
fast_run
fast_run
default_run
deface_run

awk '
  { s[$1] += $2; k[$1] += $3; runs[$1] = runs[$1] sprintf(" %.2f", $3 / $2) }
  END {
    d = k["deface"] / s["deface"]
    printf "| tool | images/s (each run) | images/s (both) | vs deface |\n|---|---|---|---|\n"
    printf "| deface 1.5.0 | %s | %.2f | 1.00x |\n", runs["deface"], d
    printf "| blindfold (defaults) | %s | %.2f | %.2fx |\n", runs["default"], k["default"] / s["default"], k["default"] / s["default"] / d
    printf "| blindfold --fast | %s | %.2f | %.2fx |\n", runs["fast"], k["fast"] / s["fast"], k["fast"] / s["fast"] / d
  }' "$work/times.txt" | tee "$work/table.md"
