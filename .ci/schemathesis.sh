#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against the live API and its /openapi.json.
# Every check runs, including positive/negative data acceptance: the record schema is the validator's own.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v schemathesis >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi
cargo build --quiet --locked -p classification_api
log=$(mktemp)
# history on (the default), in a throwaway file: the admin endpoints are
# covered too (schemathesis calls from loopback)
history=$(mktemp -d)
HOST=127.0.0.1 PORT=0 HISTORY_PATH="$history/history.sqlite3" RUST_LOG=warn,classification_api::server=info \
  ./target/debug/classification_api >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$log" "$history"' EXIT
for _ in $(seq 1 100); do
  addr=$(sed -n 's/.*listening on http:\/\/\([0-9.:]*\).*/\1/p' "$log" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.1
done
[ -n "${addr:-}" ] || { cat "$log"; echo "the API did not start" >&2; exit 1; }
schemathesis --config-file .ci/schemathesis.toml run "http://$addr/openapi.json" \
  --checks all --max-examples 100 --seed 20261122
