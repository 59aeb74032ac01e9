#!/usr/bin/env bash
# Coverage-guided fuzzing on stable Rust: libFuzzer (from the libfuzzer-sys
# crate) with the same SanitizerCoverage flags cargo-fuzz passes, no
# sanitizer (so no nightly). Usage:
#   fuzz/run.sh SECONDS_PER_TARGET [TARGET...]     (default: every target)
# Prints each target's execution count; exits non-zero on a crash, a panic
# or an input that runs over 10 s (libFuzzer writes it to fuzz/artifacts/).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(pipeline frames metadata heif jpeg_dct)
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$PWD/target}
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=4 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares"
# An explicit --target keeps the flags off build scripts and proc macros.
host=$(rustc -vV | sed -n 's/^host: //p')
cargo build --release -q --bins --target "$host"
bin=$CARGO_TARGET_DIR/$host/release
mkdir -p corpus/seeds artifacts
BLINDFOLD_FUZZ_SEEDS=corpus/seeds "$bin/pipeline" -runs=0 >/dev/null 2>&1
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  log=$(mktemp)
  # -timeout: a single input over 10 s is a failure; -rss_limit_mb: memory.
  if ! "$bin/$t" "corpus/$t" corpus/seeds -max_total_time="$secs" -timeout=10 \
       -rss_limit_mb=4096 -max_len=262144 -print_final_stats=1 \
       -artifact_prefix=artifacts/ >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz target $t FAILED" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  echo "$t: $runs executions in $secs s"
  rm -f "$log"
done
