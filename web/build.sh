#!/usr/bin/env bash
# Build the browser page into web/dist/ (self-contained; serve it with any
# static host). Needs: the wasm32-unknown-unknown Rust target, wasm-bindgen-cli
# at the version of the wasm-bindgen crate in Cargo.lock (installed here with
# `cargo install` when missing), and wasm-opt (Debian: binaryen; skipped with
# a warning when absent). The model comes from $BLINDFOLD_MODEL, else from the
# model store (blindfold-models' fetch_model example: the same cache as
# `blindfold model fetch`). It never builds or replaces the blindfold CLI
# (target/release/blindfold keeps its features and backend), and checks so.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
dist=$root/web/dist

# The user's CLI binaries as they are now (path, mtime, size, inode).
cli_binaries() {
  local b
  for b in "$target/release/blindfold" "$target/debug/blindfold"; do
    if [ -e "$b" ]; then echo "$b $(stat -c '%Y %s %i' "$b")"; fi
  done
}
cli_before=$(cli_binaries)

version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$version" ] || { echo "build.sh: wasm-bindgen is not in Cargo.lock" >&2; exit 1; }
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
  echo "== installing wasm-bindgen-cli $version"
  cargo install -q wasm-bindgen-cli --version "$version"
fi
rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true

echo "== building the wasm module (release, simd128)"
cargo build -q --release -p blindfold-wasm --target wasm32-unknown-unknown

rm -rf "$dist.tmp"
mkdir -p "$dist.tmp/pkg" "$dist.tmp/model"
wasm-bindgen --target web --no-typescript --out-dir "$dist.tmp/pkg" \
  "$target/wasm32-unknown-unknown/release/blindfold_wasm.wasm"
# The sha256 the module expects of the model (blindfold-infer's
# CENTERFACE_PREPARED_SHA256); loading the module in node also checks it works.
expected_sha() {
  node --input-type=module -e "
import fs from 'node:fs';
import { initSync, preparedModelSha256 } from '$dist.tmp/pkg/blindfold_wasm.js';
initSync({ module: fs.readFileSync('$1') });
console.log(preparedModelSha256());" 2>/dev/null
}
if command -v wasm-opt >/dev/null; then
  echo "== wasm-opt -O3 ($(wasm-opt --version))"
  wasm-opt -O3 --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
    "$dist.tmp/pkg/blindfold_wasm_bg.wasm" -o "$dist.tmp/pkg/opt.wasm"
  # binaryen 108 (Debian 12) rewrites wasm-bindgen's externref table into one
  # the glue code cannot initialise; keep the optimised module only if it loads.
  if expected_sha "$dist.tmp/pkg/opt.wasm" >/dev/null; then
    mv "$dist.tmp/pkg/opt.wasm" "$dist.tmp/pkg/blindfold_wasm_bg.wasm"
  else
    rm "$dist.tmp/pkg/opt.wasm"
    echo "build.sh: the wasm-opt output does not load (old binaryen?); keeping the module as built" >&2
  fi
else
  echo "build.sh: wasm-opt not found (apt-get install binaryen); the module is not shrunk" >&2
fi
cp web/index.html web/app.js web/worker.js web/zip.js web/style.css web/favicon.svg "$dist.tmp/"

echo "== the model"
model=${BLINDFOLD_MODEL:-}
if [ -z "$model" ]; then
  # Not `cargo run -p blindfold-cli --features rten`: that would replace the
  # user's target/release/blindfold with a build on the slow backend.
  model=$(cargo run -q -p blindfold-models --example fetch_model)
fi
[ -f "$model" ] || { echo "build.sh: no model at '$model'" >&2; exit 1; }
cp "$model" "$dist.tmp/model/centerface-prepared.onnx"
# The expected hash comes from the built module itself, the same value the
# page checks against.
want=$(expected_sha "$dist.tmp/pkg/blindfold_wasm_bg.wasm")
got=$(sha256sum "$dist.tmp/model/centerface-prepared.onnx" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "build.sh: $model has sha256 $got, expected $want (the prepared model)" >&2
  exit 1
fi
echo "$want  centerface-prepared.onnx" > "$dist.tmp/model/SHA256SUMS"

if [ "$(cli_binaries)" != "$cli_before" ]; then
  echo "build.sh: a blindfold CLI binary changed during the build (it must not):" >&2
  echo "before: $cli_before" >&2
  echo "after:  $(cli_binaries)" >&2
  exit 1
fi

rm -rf "$dist"
mv "$dist.tmp" "$dist"
echo "== web/dist is ready ($(du -sh "$dist" | cut -f1)):"
(cd "$dist" && find . -type f | sort)
