# Shared by bench/serve/run.sh and huge.sh (sourced, after SRC is set):
# the binary, the Python environment, a temp folder removed on exit, and
# starting the server and stopping it.
BIN=${BLINDFOLD_BIN:-${CARGO_TARGET_DIR:-target}/debug/blindfold}
[ -x "$BIN" ] || cargo build -q -p blindfold-cli
[ -d "$SRC" ] || { echo "no images at $SRC (WIDER FACE dev)"; exit 2; }

VENV=bench/serve/.venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "Pillow>=10"
fi
PY="$VENV/bin/python"

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_server [FLAGS...]: starts `blindfold serve` on a free loopback port
# with its work folder in $TMP; sets SERVER_PID and ADDR once it is ready,
# and samples its RSS (kB) into $TMP/rss until it exits.
start_server() {
  mkdir -p "$TMP/work"
  "$BIN" serve --listen 127.0.0.1:0 --quiet --work-dir "$TMP/work" "$@" 2> "$TMP/server.log" &
  SERVER_PID=$!
  ADDR=""
  for _ in $(seq 1 600); do
    ADDR=$(sed -n 's/^blindfold: listening on http:\/\/\([^ ]*\).*/\1/p' "$TMP/server.log")
    [ -n "$ADDR" ] && curl -sf "http://$ADDR/readyz" >/dev/null && break
    sleep 0.2
  done
  [ -n "$ADDR" ] || { cat "$TMP/server.log"; exit 1; }
  ( while kill -0 "$SERVER_PID" 2>/dev/null; do grep VmRSS /proc/$SERVER_PID/status 2>/dev/null | awk '{print $2}'; sleep 0.5; done ) > "$TMP/rss" &
}

# stop_server: SIGTERM, then waits; fails the script if the server exits
# with an error. Sets STOP_MS (how long it took) and LEFT (files left in
# its work folder).
stop_server() {
  local t0
  t0=$(date +%s%N)
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || { echo "server exited with an error"; cat "$TMP/server.log"; exit 1; }
  STOP_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
  SERVER_PID=""
  LEFT=$(find "$TMP/work" -mindepth 1 | wc -l)
}
