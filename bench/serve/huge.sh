#!/usr/bin/env bash
# Huge photos against `blindfold serve` (issue 22, item 7), bounded in time:
# HUGE_CLIENTS clients post photos near the service's pixel limit while
# SMALL_CLIENTS clients post WIDER FACE dev photos, for LOAD_SECONDS. Shows
# the per-request deadline (no reply later than --request-timeout; past it
# 504, nothing kept) and admission by work (a huge photo that does not fit
# the work budget gets 503 at once; small photos keep being served). Then
# waits until no work is held, stops the server with SIGTERM and checks that
# it exits promptly and leaves nothing. Usage:
#   bench/serve/huge.sh [IMAGES_DIR]
# IMAGES_DIR defaults to ../shared/data/widerface-dev/images (WIDER FACE dev).
# Env: HUGE_CLIENTS (12), SMALL_CLIENTS (8), HUGE_MP (60), LOAD_SECONDS (90),
# REQUEST_TIMEOUT (120, the service default), SERVE_FLAGS (more serve flags),
# BLINDFOLD_BIN (default: target/debug/blindfold, built if missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=${1:-../shared/data/widerface-dev/images}
HUGE_CLIENTS=${HUGE_CLIENTS:-12}
SMALL_CLIENTS=${SMALL_CLIENTS:-8}
HUGE_MP=${HUGE_MP:-60}
SECONDS_LOAD=${LOAD_SECONDS:-90}
REQUEST_TIMEOUT=${REQUEST_TIMEOUT:-120}
source bench/serve/common.sh

# 40 small photos (every k-th WIDER dev photo) and 3 huge ones: WIDER
# photos enlarged to HUGE_MP megapixels at 3:2.
mkdir -p "$TMP/small" "$TMP/huge"
find "$SRC" -name '*.jpg' | sort > "$TMP/all"
STEP=$(( $(wc -l < "$TMP/all") / 40 )); [ "$STEP" -ge 1 ] || STEP=1
awk -v s="$STEP" 'NR % s == 0 && c < 40 { print; c++ }' "$TMP/all" | while read -r f; do cp "$f" "$TMP/small/"; done
"$PY" - "$TMP/all" "$TMP/huge" "$HUGE_MP" <<'PYEOF'
import sys
from PIL import Image
paths = open(sys.argv[1]).read().split()
out, mp = sys.argv[2], float(sys.argv[3])
w = int((mp * 1e6 * 1.5) ** 0.5); h = int(w / 1.5)
Image.MAX_IMAGE_PIXELS = None
for k, p in enumerate(paths[5::len(paths) // 3][:3]):
    Image.open(p).convert("RGB").resize((w, h), Image.BILINEAR).save(f"{out}/huge{k}.jpg", quality=85)
print(f"huge photos: 3 of {w}x{h} ({w*h/1e6:.1f} MP)")
PYEOF
ls "$TMP/small"/*.jpg > "$TMP/small.list"
ls "$TMP/huge"/*.jpg > "$TMP/huge.list"

# shellcheck disable=SC2086
start_server --request-timeout "$REQUEST_TIMEOUT" ${SERVE_FLAGS:-}
curl -s "http://$ADDR/readyz" > "$TMP/ready.json"
LOAD0=$(cut -d' ' -f1 /proc/loadavg)
"$PY" bench/serve/load.py --addr "$ADDR" --images "$TMP/huge.list" --clients "$HUGE_CLIENTS" \
  --seconds "$SECONDS_LOAD" --expected 200,503,504 > "$TMP/huge.json" &
HUGE_PID=$!
"$PY" bench/serve/load.py --addr "$ADDR" --images "$TMP/small.list" --clients "$SMALL_CLIENTS" \
  --seconds "$SECONDS_LOAD" --expected 200,503,504 > "$TMP/small.json"
wait "$HUGE_PID"
LOAD1=$(cut -d' ' -f1 /proc/loadavg)
# Work held after the last reply (photos whose client got 504 run to the
# end of their detection): wait until none is.
T0=$(date +%s)
until curl -s "http://$ADDR/metrics" | grep -q '^blindfold_work_megapixels 0$'; do
  [ $(( $(date +%s) - T0 )) -lt 600 ] || break
  sleep 1
done
HELD_S=$(( $(date +%s) - T0 ))
curl -s "http://$ADDR/metrics" > "$TMP/metrics"
HWM_KB=$(awk '/VmHWM/ {print $2}' /proc/$SERVER_PID/status)
stop_server

"$PY" - "$TMP" "$HWM_KB" "$LEFT" "$HELD_S" "$STOP_MS" "$REQUEST_TIMEOUT" "$LOAD0" "$LOAD1" <<'PYEOF'
import json, sys
tmp, hwm, left, held, stop, deadline = sys.argv[1], int(sys.argv[2]) / 1024, int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]) / 1000, float(sys.argv[6])
ready = json.load(open(f"{tmp}/ready.json"))
metrics = open(f"{tmp}/metrics").read()
print(f"server: {ready['detectors']} detectors, work budget {ready['work_budget_megapixels']} MP, "
      f"max {ready['max_pixels']/1e6:.0f} MP, request timeout {deadline:.0f} s; load average {sys.argv[7]} -> {sys.argv[8]}")
rows = {}
for kind in ("huge", "small"):
    r = json.load(open(f"{tmp}/{kind}.json"))
    rows[kind] = r
    lat = r["latency_by_status"]
    def fmt(s):
        x = lat.get(s)
        return f"p50 {x['p50_s']:.1f} s, p99 {x['p99_s']:.1f} s, max {x['max_s']:.1f} s" if x else "-"
    print(f"{kind}: {r['clients']} clients, {r['seconds']:.0f} s; statuses {r['by_status']}")
    for s in ("200", "503", "504"):
        print(f"  {s}: {fmt(s)}")
    print(f"  faces checked in 200 replies: {r['faces_checked']}; check failures: {r['check_failure_count']}")
    for f in r["check_failures"] + ["error: " + e for e in r["error_samples"]]:
        print("    " + f)
print(f"work held after the last reply: {held} s; peak RSS {hwm:.0f} MB; exit {stop:.1f} s after SIGTERM; files left: {left}")
for line in metrics.splitlines():
    if line.startswith(("blindfold_http_requests_total", "blindfold_photos_total")):
        print("  " + line)
latest = max(r["max_reply_s"] or 0 for r in rows.values())
checks = {
    "no reply later than the deadline (+2 s)": latest <= deadline + 2,
    "small photos served (some 200s)": rows["small"]["by_status"].get("200", 0) > 0,
    "only 200, 503 and 504": all(r["other_errors"] == 0 for r in rows.values()),
    "every 200 decodes, same size, faces changed": all(r["check_failure_count"] == 0 for r in rows.values()),
    "no work held 10 minutes after the load": "blindfold_work_megapixels 0" in metrics,
    "exit within 10 s of SIGTERM": stop <= 10,
    "no file left": left == 0,
}
for k, v in checks.items():
    print(f"check: {k}: {'ok' if v else 'FAILED'}")
sys.exit(0 if all(checks.values()) else 1)
PYEOF
