#!/usr/bin/env bash
# Side-by-side benchmark: blindfold (default and --fast) against deface 1.5.0 on
# the WIDER FACE dev images. Prints the issue's table and the leak/collateral
# curve, writes bench/out/run/curve.png when matplotlib is available.
#
#   bench/run.sh [DATA_ROOT]       (default: ../shared/data/widerface-dev)
#
# Env: BLINDFOLD (binary, default target/release/blindfold, built if missing),
#      JOBS (blindfold --jobs, default: number of CPUs),
#      BF_ARGS / BF_FAST_ARGS (extra blindfold flags for the default / fast rows,
#        e.g. BF_ARGS="--threshold 0.15 --scales 1.25 --tile 2048 --overview 2048"),
#      LIMIT (only the first N images of the list: a quick smoke test),
#      NOFACES (folder of photos without people whose masks are counted,
#        default ../shared/data/exif; skipped when missing),
#      FP32 (default 1: also time the default and --fast rows with
#        --precision fp32, for the int8 speed-up in the same run; 0 skips).
# Needs: python3 (venv made in bench/.venv), /usr/bin/time, network to PyPI
# on the first run. About 10-15 minutes on a 2-core machine.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
data="${1:-$repo/../shared/data/widerface-dev}"
data="$(cd "$data" && pwd)"
work="$here/out/run"
venv="$here/.venv"
bin="${BLINDFOLD:-$repo/target/release/blindfold}"

# The venv with deface, the release build, the model and ONNX Runtime: log, py,
# model, ort_lib and the command bf.
. "$here/setup.sh"

rm -rf "$work"
mkdir -p "$work/deface_io" "$work/bf_default" "$work/bf_fast"
if [ -n "${LIMIT:-}" ]; then
  mkdir -p "$work/data/images"
  ln -s "$data/ground_truth" "$work/data/ground_truth"
  head -n "$LIMIT" "$data/image_list.txt" > "$work/data/image_list.txt"
  while IFS= read -r rel; do
    mkdir -p "$work/data/images/$(dirname "$rel")"
    cp "$data/images/$rel" "$work/data/images/$rel"
  done < "$work/data/image_list.txt"
  data="$work/data"
fi
read -r -a bf_args <<< "${BF_ARGS:-}"
read -r -a bf_fast_args <<< "${BF_FAST_ARGS:-}"
# The curve runs take the same flags with --threshold 0.05 instead.
no_threshold() {
  local skip=0
  for a in "$@"; do
    if [ "$skip" = 1 ]; then skip=0; continue; fi
    case "$a" in
      --threshold) skip=1 ;;
      --threshold=*) ;;
      *) printf '%s\n' "$a" ;;
    esac
  done
}
mapfile -t bf_curve_args < <(no_threshold "${bf_args[@]}")
mapfile -t bf_fast_curve_args < <(no_threshold "${bf_fast_args[@]}")
n=$(wc -l < "$data/image_list.txt")
log "$n images from $data"

# deface writes next to its inputs and does not recurse: give it a flat copy.
while IFS= read -r rel; do
  [ -n "$rel" ] || continue
  cp "$data/images/$rel" "$work/deface_io/${rel//\//__}"
done < "$data/image_list.txt"

timed() { # name, command...: /usr/bin/time -v into $work/name.time
  local name="$1"; shift
  /usr/bin/time -v -o "$work/$name.time" "$@"
}

log "deface CLI over the folder (threshold 0.2, mask scale 1.3, writes outputs)"
timed deface_cli "$venv/bin/deface" --thresh 0.2 --mask-scale 1.3 "$work/deface_io" \
  > "$work/deface_cli.log" 2>&1

log "blindfold default (writes outputs, --json)"
timed bf_default "${bf[@]}" "${bf_args[@]}" --json -o "$work/bf_default" "$data/images" > "$work/bf_default.jsonl"

log "blindfold --fast (writes outputs, --json)"
timed bf_fast "${bf[@]}" --fast "${bf_fast_args[@]}" --json -o "$work/bf_fast" "$data/images" > "$work/bf_fast.jsonl"

if [ "${FP32:-1}" = 1 ]; then
  log "blindfold default, --precision fp32 (writes outputs, --json)"
  timed bf_default_fp32 "${bf[@]}" "${bf_args[@]}" --precision fp32 --json -o "$work/bf_default_fp32" \
    "$data/images" > "$work/bf_default_fp32.jsonl"
  log "blindfold --fast, --precision fp32 (writes outputs, --json)"
  timed bf_fast_fp32 "${bf[@]}" --fast "${bf_fast_args[@]}" --precision fp32 --json \
    -o "$work/bf_fast_fp32" "$data/images" > "$work/bf_fast_fp32.jsonl"
fi

log "blindfold default at --threshold 0.05, dry run (for AP and the curve)"
"${bf[@]}" "${bf_curve_args[@]}" --threshold 0.05 --json --dry-run "$data/images" > "$work/bf_curve.jsonl"
log "blindfold --fast at --threshold 0.05, dry run"
"${bf[@]}" --fast "${bf_fast_curve_args[@]}" --threshold 0.05 --json --dry-run "$data/images" > "$work/bf_fast_curve.jsonl"

log "deface boxes from its Python API at threshold 0.05 (for AP and the curve)"
"$py" "$here/deface_dets.py" "$data" "$work/deface_dets.npz" 0.05

nofaces_src="${NOFACES:-$repo/../shared/data/exif}"
if [ -d "$nofaces_src" ]; then
  log "photos without people ($nofaces_src): masks per photo"
  mkdir -p "$work/nofaces/images"
  cp "$nofaces_src"/*.jpg "$work/nofaces/images/"
  (cd "$work/nofaces/images" && ls *.jpg) > "$work/nofaces/image_list.txt"
  "${bf[@]}" "${bf_args[@]}" --json --dry-run "$work/nofaces/images" > "$work/bf_nofaces.jsonl"
  "${bf[@]}" --fast "${bf_fast_args[@]}" --json --dry-run "$work/nofaces/images" > "$work/bf_fast_nofaces.jsonl"
  "$py" "$here/deface_dets.py" "$work/nofaces" "$work/deface_nofaces.npz" 0.05
fi

log "evaluating"
{ echo "blindfold default flags: ${BF_ARGS:-(none)}"; echo "blindfold fast flags: --fast ${BF_FAST_ARGS:-}"; } > "$work/flags.txt"
"$py" "$here/report.py" "$data" "$work" | tee "$work/table.md"
