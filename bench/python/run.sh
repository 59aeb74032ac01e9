#!/usr/bin/env bash
# Python API and Ray throughput against the CLI, on the same photos in the
# same run:
#   1. the CLI: blindfold -j JOBS -o OUT DATA (model load included);
#   2. the Python API: one Anonymizer(jobs=JOBS), a pool of JOBS threads
#      (bench_api.py; model load included);
#   3. the Ray Data job (examples/ray_dataset.py) with 2 actors (Ray start-up
#      included, and reported apart from the run).
#
#   bench/python/run.sh [DATA_DIR]   (default: ../shared/data/widerface-dev/images)
#
# Env: BLINDFOLD (CLI binary, default $CARGO_TARGET_DIR or target, debug
#      profile), WHEEL (the blindfold wheel, default the newest in
#      target/wheels), JOBS (default: number of CPUs), VENV (a venv with
#      ray[data], numpy and pyarrow; made in bench/python/.venv if not given).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="$(cd "${1:-$repo/../shared/data/widerface-dev/images}" && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
bin="${BLINDFOLD:-$target/debug/blindfold}"
wheel="${WHEEL:-$(ls -t "$target"/wheels/blindfold-*.whl | head -1)}"
jobs="${JOBS:-$(nproc)}"
venv="${VENV:-$here/.venv}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "ray[data]" numpy pyarrow
fi
"$venv/bin/pip" install -q --force-reinstall --no-deps "$wheel"
n=$(find "$data" -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | wc -l)
echo "photos: $n in $data; jobs: $jobs; CLI: $bin; wheel: $(basename "$wheel")"

start=$(date +%s.%N)
"$bin" -q --json -j "$jobs" -o "$out/cli" "$data" > "$out/cli.jsonl"
end=$(date +%s.%N)
cli_s=$(echo "$end - $start" | bc)
echo "cli:    $(tail -1 "$out/cli.jsonl")"
echo "cli:    $n photos in ${cli_s} s = $(echo "scale=3; $n / $cli_s" | bc) photos/s"

py=$("$venv/bin/python" "$here/bench_api.py" "$data" "$out/py" "$jobs")
echo "python: $py"
py_rate=$(echo "$py" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["photos_per_s"])')
echo "python/cli: $(echo "scale=3; $py_rate * $cli_s / $n" | bc)"

start=$(date +%s.%N)
"$venv/bin/python" "$repo/examples/ray_dataset.py" "$data" "$out/ray" --actors 2 > "$out/ray.log" 2>&1 || true
end=$(date +%s.%N)
ray_s=$(echo "$end - $start" | bc)
grep -E "photos anonymised" "$out/ray.log" || { tail -30 "$out/ray.log"; exit 1; }
run_s=$(grep -oE "execution finished in [0-9.]+ seconds" "$out/ray.log" | grep -oE "[0-9.]+" | tail -1)
echo "ray:    $n photos in ${ray_s} s with start-up = $(echo "scale=3; $n / $ray_s" | bc) photos/s;" \
  "dataset execution ${run_s} s = $(echo "scale=3; $n / $run_s" | bc) photos/s (2 actors)"
