#!/usr/bin/env bash
# The Open Inference Protocol with the real Python clients: tritonclient.http
# (defaults, then binary_data=False) and a request from mlserver's PandasCodec
# must agree with POST /predict on all 1309 dataset rows (tools/v2_clients.py).
# The clients are installed from PyPI into a virtual environment made here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/v2-clients-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  'tritonclient[http]==2.73.0' 'mlserver==1.7.1' 'pandas==3.1.1' 'numpy==2.4.6'
cargo build --quiet --locked -p classification_api
source .ci/start_api.sh
start_api HISTORY=off
"$venv/bin/python" tools/v2_clients.py "$addr"
