#!/usr/bin/env bash
# Speed of the browser page against the native CLI (rten backend) on the
# same WIDER FACE dev photos, in one run. Usage: bench/web/run.sh [N]
# (default 20 photos; images from $WIDERFACE_DEV, default
# /work/shared/data/widerface-dev/images). Needs web/dist (web/build.sh) and
# what web/e2e.sh installs (chromium, chromium-driver, web/.venv-e2e).
# Writes bench/web/out/results.json and prints a table.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20}
images=${WIDERFACE_DEV:-/work/shared/data/widerface-dev/images}
out=bench/web/out
rm -rf "$out" && mkdir -p "$out/photos"
# Every k-th photo of the sorted list, so all event categories are sampled.
mapfile -t all < <(find "$images" -name '*.jpg' | sort)
step=$(( ${#all[@]} / n ))
for ((i = 0; i < n; i++)); do cp "${all[i * step]}" "$out/photos/"; done

cargo build -q --release -p blindfold-cli --no-default-features --features rten
bin=${CARGO_TARGET_DIR:-target}/release/blindfold
# Each run's wall time (model load included) goes to $out/<name>.wall.
timed() {
  local name=$1 t0 t1; shift
  t0=$(date +%s.%N)
  "$@" > "$out/$name.jsonl"
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{ printf "%.3f\n", $2 - $1 }' > "$out/$name.wall"
}
cli() { "$bin" --backend rten --offline --json -q -o "$out/$1" "$out/photos" "${@:2}"; }
echo "== native rten: default workers and threads"
timed native-default cli native-default
echo "== native rten: -j 1 (one worker, rten threads = all cores)"
timed native-j1 cli native-j1 -j 1
echo "== native rten: -j 1 pinned to one core (taskset -c 0: one rten thread)"
timed native-1core taskset -c 0 "$bin" --backend rten --offline --json -q \
  -o "$out/native-1core" "$out/photos" -j 1
echo "== browser (headless Chromium, wasm, one thread)"
web/.venv-e2e/bin/python bench/web/browser.py --dist web/dist --photos "$out/photos" \
  --out "$out/browser.json"
web/.venv-e2e/bin/python bench/web/summary.py "$out"
