#!/usr/bin/env bash
# The Open Inference Protocol over gRPC with the stock Python clients, each in
# its own process and virtual environment (they register the same protobuf
# symbols): tritonclient[grpc] and kserve's InferenceGRPCClient score the 1309
# rows in one call and in single-row calls, equal to POST /predict, and get
# the right status and message for each bad request (tools/grpc_clients.py).
set -euo pipefail
cd "$(dirname "$0")/.."
venv() {
  local dir=$1
  shift
  if [ ! -x "$dir/bin/python" ]; then
    python3 -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}
venv target/grpc-triton-venv 'tritonclient[grpc]==2.73.0' 'pandas==3.1.1' 'numpy==2.4.6'
venv target/grpc-kserve-venv 'kserve==0.21.0'
cargo build --quiet --locked -p classification_api
key=grpc-check-$RANDOM$RANDOM-key
source .ci/start_api.sh
start_api HISTORY=off API_KEY="$key"
[ -n "$grpc_addr" ] || { echo "the API wrote no gRPC address" >&2; exit 1; }
target/grpc-triton-venv/bin/python tools/grpc_clients.py triton "$addr" "$grpc_addr" "$key"
target/grpc-kserve-venv/bin/python tools/grpc_clients.py kserve "$addr" "$grpc_addr" "$key"
