#!/usr/bin/env bash
# The web app in real Chromium: Debian's chromium (installed with apt-get when
# missing) driven by Playwright (playwright-core from npm, as locked in
# classification_api/tests/web/package-lock.json), against the server binary.
# With CLASSIFICATION_IMAGE set (.ci/run sets it), the admin views are also
# tested in that image, run with podman.
# `--docs` also copies the desktop screenshots to docs/img/ (the README's).
set -euo pipefail
cd "$(dirname "$0")/.."
# CHROMIUM may name another Chromium build (GitHub's Ubuntu runners have no
# Debian chromium package, but Google Chrome preinstalled: the workflow says so)
if [ -z "${CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq chromium >/dev/null
fi
export CHROMIUM="${CHROMIUM:-$(command -v chromium)}"
"$CHROMIUM" --version
(cd classification_api/tests/web && npm ci --no-audit --no-fund --silent)
cargo build --quiet --locked -p classification_api
export SERVER_BIN="$PWD/target/debug/classification_api"
export SCREENSHOTS="$PWD/target/web-screenshots"
rm -rf "$SCREENSHOTS"
(cd classification_api/tests/web && npm test --silent)
echo "screenshots: $(ls "$SCREENSHOTS" | tr '\n' ' ')"
if [ "${1:-}" = "--docs" ]; then
  mkdir -p docs/img
  cp "$SCREENSHOTS"/desktop-*.png docs/img/
  echo "copied the desktop screenshots to docs/img/"
fi
