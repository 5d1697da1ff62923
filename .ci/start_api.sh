# Sourced by .ci scripts: start_api VAR=VALUE... starts the debug API build on
# a free loopback port with those variables (gRPC on another), sets $addr to
# its host:port and $grpc_addr to its gRPC one, and stops it when the script exits (removing $api_remove too, if set). Build it
# first.
start_api() {
  api_log=$(mktemp)
  api_address=$(mktemp -u)
  env HOST=127.0.0.1 PORT=0 GRPC_PORT=0 RUST_LOG=warn ADDRESS_FILE="$api_address" "$@" \
    ./target/debug/classification_api >"$api_log" 2>&1 &
  api_pid=$!
  trap 'kill "$api_pid" 2>/dev/null || true; rm -rf "$api_log" "$api_address" ${api_remove:+"$api_remove"}' EXIT
  # the server writes ADDRESS_FILE once it is ready; wait for it (60 s at most)
  for _ in $(seq 1 600); do
    [ -s "$api_address" ] && break
    kill -0 "$api_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$api_address" ] || { cat "$api_log"; echo "the API did not start" >&2; exit 1; }
  # the HTTP address, then the gRPC one
  addr=$(sed -n 1p "$api_address")
  grpc_addr=$(sed -n 2p "$api_address")
}
