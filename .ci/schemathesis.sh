#!/usr/bin/env bash
# Runs schemathesis (from PyPI) against the live API and its /openapi.json.
# Every check runs, including positive/negative data acceptance: the record schema is the validator's own.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v schemathesis >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check 'schemathesis>=4.3,<5'
fi
cargo build --quiet --locked -p classification_api
# history on (the default), in a throwaway file: the admin endpoints are
# covered too (schemathesis calls from loopback)
history=$(mktemp -d)
api_remove=$history
source .ci/start_api.sh
start_api HISTORY_PATH="$history/history.sqlite3"
schemathesis --config-file .ci/schemathesis.toml run "http://$addr/openapi.json" \
  --checks all --max-examples 100 --seed 20261122
