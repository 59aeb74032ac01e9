#!/usr/bin/env bash
# CI for the dataset examples: installs Ray Data and Daft into a throwaway
# venv (nothing cached), makes 20 test photos (plus one broken file) from the
# public-domain astronaut portrait, runs both jobs with 2 workers and checks
# that every photo has an output with every face masked and no metadata, and
# that the broken file is reported and not written.
#   examples/run_ci.sh WHEEL
set -euo pipefail
cd "$(dirname "$0")/.."
wheel="$1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q --no-cache-dir "ray[data]" daft scikit-image==0.25.2 pillow numpy pyarrow
"$py" -m pip install -q --no-cache-dir "$wheel"
"$py" examples/make_photos.py "$work/photos" 20
# Each job exits with 1 because of the broken file; anything else is a failure.
for job in ray daft; do
  start=$(date +%s)
  set +e
  if [ "$job" = ray ]; then
    timeout 600 "$py" examples/ray_dataset.py "$work/photos" "$work/out-$job" --actors 2 >"$work/$job.log" 2>&1
  else
    timeout 600 "$py" examples/daft_dataset.py "$work/photos" "$work/out-$job" --workers 2 >"$work/$job.log" 2>&1
  fi
  rc=$?
  set -e
  grep -E "photos anonymised|FAILED" "$work/$job.log" || true
  if [ "$rc" -ne 1 ]; then
    tail -40 "$work/$job.log"
    echo "$job job: exit status $rc, expected 1 (one broken file)" >&2
    exit 1
  fi
  "$py" examples/check_outputs.py "$work/photos" "$work/out-$job"
  echo "$job job: $(( $(date +%s) - start )) s"
done
