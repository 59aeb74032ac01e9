#!/usr/bin/env bash
# The test command from the README. Runs every Rust test (unit and
# integration; the integration tests fetch the model once into the cache),
# the Python package's tests (the wheel built with maturin and installed into
# python/.venv) and the unit tests of the benchmark's evaluation code.
set -euo pipefail
cd "$(dirname "$0")"
cargo test --workspace
python3 -m venv python/.venv >/dev/null
python/.venv/bin/pip install -q -r python/requirements-test.txt
wheels="${CARGO_TARGET_DIR:-$PWD/target}/wheels"
rm -f "$wheels"/blindfold-*.whl
python/.venv/bin/maturin build -q -m crates/blindfold-py/Cargo.toml -o "$wheels" \
  -i python/.venv/bin/python
python/.venv/bin/pip install -q --force-reinstall --no-deps "$wheels"/blindfold-*.whl
python/.venv/bin/python -m pytest -q python/tests
if [ -d bench/tests ]; then
  # The same virtual environment serves: it already has what these need.
  python/.venv/bin/pip install -q -r bench/requirements-test.txt
  python/.venv/bin/python -m pytest -q bench/tests
fi
