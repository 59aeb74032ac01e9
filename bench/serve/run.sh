#!/usr/bin/env bash
# Load test of `blindfold serve` on loopback, bounded in time (about 60 s of
# load plus the CLI pass on the same photos). Usage:
#   bench/serve/run.sh [IMAGES_DIR]
# IMAGES_DIR defaults to ../shared/data/widerface-dev/images (WIDER FACE dev).
# Env: PHOTOS (WIDER photos used, default 60), BIG (12-megapixel upscales,
# default 3), CLIENTS (50), LOAD_SECONDS (60), RSS_BOUND_MB (see the README),
# BLINDFOLD_BIN (default: target/debug/blindfold, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${1:-../shared/data/widerface-dev/images}
PHOTOS=${PHOTOS:-60}
BIG=${BIG:-3}
CLIENTS=${CLIENTS:-50}
SECONDS_LOAD=${LOAD_SECONDS:-60}
# The bound: each detector may need DetectConfig::worker_memory() (about
# 1.8 GB at the default settings: 2048 px network inputs at 400 bytes per
# pixel plus 100 MB), one detector per CPU, plus 512 MB for the bodies
# waiting in the queue and the process itself.
RSS_BOUND_MB=${RSS_BOUND_MB:-$(( $(nproc) * 1800 + 512 ))}
source bench/serve/common.sh

# The photo set: every k-th WIDER dev photo, and BIG 4000x3000 upscales.
mkdir -p "$TMP/set"
find "$SRC" -name '*.jpg' | sort > "$TMP/all"
TOTAL=$(wc -l < "$TMP/all")
STEP=$(( TOTAL / PHOTOS )); [ "$STEP" -ge 1 ] || STEP=1
awk -v s="$STEP" -v n="$PHOTOS" 'NR % s == 0 && c < n { print; c++ }' "$TMP/all" > "$TMP/picked"
i=0; while read -r f; do cp "$f" "$TMP/set/$(printf %03d $i).jpg"; i=$((i+1)); done < "$TMP/picked"
"$PY" - "$TMP/set" "$BIG" <<'PYEOF'
import sys, glob
from PIL import Image
d, n = sys.argv[1], int(sys.argv[2])
for k, p in enumerate(sorted(glob.glob(d + "/*.jpg"))[:n]):
    Image.open(p).convert("RGB").resize((4000, 3000), Image.LANCZOS).save(f"{d}/big{k}.jpg", quality=90)
PYEOF
ls "$TMP/set"/*.jpg > "$TMP/list"
N=$(wc -l < "$TMP/list")
echo "photos: $N ($PHOTOS WIDER FACE dev, $BIG at 12 MP)"

# The CLI on the same photos (model load excluded: the summary times the work).
"$BIN" -q --json -o "$TMP/cli-out" "$TMP/set" > "$TMP/cli.json"
CLI_S=$(tail -1 "$TMP/cli.json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')
CLI_RATE=$("$PY" -c "print($N / $CLI_S)")
rm -rf "$TMP/cli-out"

# The server.
start_server
"$PY" bench/serve/load.py --addr "$ADDR" --images "$TMP/list" --clients "$CLIENTS" --seconds "$SECONDS_LOAD" > "$TMP/load.json"
HWM_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
curl -s "http://$ADDR/metrics" > "$TMP/metrics"
WORKERS=$(curl -s "http://$ADDR/readyz" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["detectors"])')
stop_server

"$PY" - "$TMP/load.json" "$CLI_RATE" "$HWM_KB" "$RSS_BOUND_MB" "$LEFT" "$N" "$TMP/cli.json" "$WORKERS" <<'PYEOF'
import json, os, sys
r = json.load(open(sys.argv[1]))
cli, hwm_mb, bound, left, n = float(sys.argv[2]), int(sys.argv[3]) / 1024, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
workers = int(sys.argv[8])
# The CLI's time per photo (with the same number of photos at once), to
# rate the CLI on the mix of photos the server actually finished: 12 MP
# photos take about 40 times longer than the others, and which ones the
# server finished in its window is chance.
cli_ms = {}
for line in open(sys.argv[7]):
    o = json.loads(line)
    if o.get("kind") == "photo":
        cli_ms[os.path.basename(o["input"])] = o["total_ms"]
ok_ms = sum(cli_ms[os.path.basename(p)] for p in r["ok_paths"])
cli_on_mix = len(r["ok_paths"]) / (ok_ms / 1000 / workers) if ok_ms else 0
ratio = r["requests_per_s"] / cli_on_mix if cli_on_mix else 0
plain = r["requests_per_s"] / cli
print(f"clients {r['clients']}, {r['seconds']:.0f} s, {n} photos")
print(f"requests/s (200s over {r['drained_s']:.0f} s, until the last admitted one finished): {r['requests_per_s']:.2f}")
print(f"requests/s (200s finished within the {r['seconds']:.0f} s):  {r['requests_per_s_in_window']:.2f}")
print(f"CLI photos/s on the same photos:          {cli:.2f}  (server/CLI {plain*100:.0f}%)")
print(f"CLI photos/s on the server's mix:         {cli_on_mix:.2f}  (server/CLI {ratio*100:.0f}%, target >= 90%; from the CLI's time per photo, {workers} at once)")
print(f"latency p50 {r['p50_s']:.2f} s, p99 {r['p99_s']:.2f} s")
print(f"statuses {r['by_status']}; shed (503): {r['shed_503']}")
print(f"peak RSS of the server: {hwm_mb:.0f} MB (bound {bound} MB)")
print(f"faces checked in 200 replies: {r['faces_checked']}; failures: {r['check_failure_count']}")
for f in r["check_failures"]:
    print("  " + f)
for e in r["error_samples"]:
    print("  error: " + e)
checks = {
    "no 5xx but 503, no other errors": r["other_errors"] == 0,
    "every 200 decodes, same size, faces changed": r["check_failure_count"] == 0,
    "RSS under the bound": hwm_mb <= bound,
    "no temp file left": left == 0,
    "requests/s >= 90% of the CLI": ratio >= 0.9,
}
for k, v in checks.items():
    print(f"check: {k}: {'ok' if v else 'FAILED'}")
sys.exit(0 if all(checks.values()) else 1)
PYEOF
