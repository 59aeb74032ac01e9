#!/usr/bin/env bash
# The test command from the README. Runs every Rust test (unit and
# integration; the integration tests fetch the model once into the cache) and
# the unit tests of the benchmark's evaluation code.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace
if [ -d bench/tests ]; then
  python3 -m venv bench/.venv-test >/dev/null
  bench/.venv-test/bin/pip install -q -r bench/requirements-test.txt
  bench/.venv-test/bin/python -m pytest -q bench/tests
fi
