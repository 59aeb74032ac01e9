#!/usr/bin/env bash
# End-to-end test of the browser page: headless Chromium (Debian's chromium
# and chromium-driver) driven by Python selenium, the page served from
# web/dist on 127.0.0.1. Builds web/dist first unless E2E_NO_BUILD=1.
# Output (screenshot, downloads): $E2E_OUT, default web/e2e-out.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if [ "${E2E_NO_BUILD:-0}" != 1 ]; then
  ./build.sh
fi
venv=.venv-e2e
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r test/requirements.txt
out=${E2E_OUT:-$PWD/e2e-out}
mkdir -p "$out"
exec "$venv/bin/python" test/e2e.py --dist dist --out "$out" "$@"
