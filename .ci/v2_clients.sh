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
log=$(mktemp)
HOST=127.0.0.1 PORT=0 HISTORY=off RUST_LOG=warn,classification_api::server=info \
  ./target/debug/classification_api >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$log"; echo "the API did not start" >&2; exit 1; }
"$venv/bin/python" tools/v2_clients.py "$addr"
