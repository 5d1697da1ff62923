#!/usr/bin/env bash
# The Python package (python/, issue 26): the wheel built with maturin, then
# installed into a new virtual environment as a user would, and its pytest
# suite run against the Rust crate's own predictions and a running API
# (REQUIRE_ALL=1: a test that cannot run fails). The Spark and Dask tests
# each score a million rows (pyspark in local mode, on Java 17; Dask's
# threaded scheduler). The tools come from PyPI into virtual environments
# made here.
set -euo pipefail
cd "$(dirname "$0")/.."
pins=('maturin==1.9.6' 'pyarrow==26.0.1' 'pandas==3.1.1' 'numpy==2.4.6' 'pytest==9.2.0' 'pyspark==4.3.0'
  'dask[dataframe]==2026.8.0')

tools=target/python-tools-venv
[ -x "$tools/bin/python" ] || python3 -m venv "$tools"
"$tools/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[0]}"
rm -rf target/wheels
# the wheel, as the README says to build it
"$tools/bin/maturin" build --release --locked --manifest-path python/Cargo.toml --out target/wheels
# the sdist PyPI gets, and a wheel built from it alone (as pip does from
# PyPI): it must carry the model crate and its artifact
"$tools/bin/maturin" sdist --manifest-path python/Cargo.toml --out target/wheels/sdist
PATH="$PWD/$tools/bin:$PATH" CARGO_TARGET_DIR="$PWD/target" "$tools/bin/python" -m pip wheel --quiet --disable-pip-version-check \
  --no-build-isolation --no-deps -w target/wheels/from-sdist target/wheels/sdist/*.tar.gz
wheel=$(ls target/wheels/from-sdist/classification_model_rs-*.whl)
echo "built the wheel and, from the sdist, $wheel"

# a new environment each run: the wheel and its declared dependencies
venv=target/python-test-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${pins[@]:1}" "$wheel"

# the crate's predictions of the dataset, and the API's (a debug build)
cargo build --quiet --locked -p classification_api
cargo run --quiet --locked -p classification_model --example predict -- \
  classification_model/datasets/titanic.csv >target/python-crate-predictions.csv
source .ci/start_api.sh
start_api HISTORY=off
# run from the tests' folder, so that the installed package (not python/python) is imported
(cd python/tests && CRATE_PREDICTIONS="$PWD/../../target/python-crate-predictions.csv" \
  API_ADDR="$addr" REQUIRE_ALL=1 "../../$venv/bin/python" -m pytest -q -p no:cacheprovider)
