# Sourced by .ci scripts: start_api VAR=VALUE... starts the debug API build on
# a free loopback port with those variables, sets $addr to its host:port and
# stops it when the script exits (removing $api_remove too, if set). Build it
# first.
start_api() {
  api_log=$(mktemp)
  env HOST=127.0.0.1 PORT=0 RUST_LOG=warn,classification_api::server=info "$@" \
    ./target/debug/classification_api >"$api_log" 2>&1 &
  api_pid=$!
  trap 'kill "$api_pid" 2>/dev/null || true; rm -rf "$api_log" ${api_remove:+"$api_remove"}' EXIT
  addr=
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$api_log" | head -n 1)
    [ -n "$addr" ] && break
    sleep 0.1
  done
  [ -n "$addr" ] || { cat "$api_log"; echo "the API did not start" >&2; exit 1; }
}
