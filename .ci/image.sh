#!/usr/bin/env bash
# The container image: installs podman, buildah and runc from Debian's
# packages when missing, builds the image from scratch (cargo xtask image:
# no base image is pulled) and checks it running (.ci/image.py).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v podman >/dev/null || ! command -v buildah >/dev/null || ! command -v runc >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq podman buildah runc >/dev/null
fi
if ! command -v psql >/dev/null; then
  echo "psql is needed to make the image's test databases (apt-get install postgresql-client)" >&2
  exit 1
fi
# rootful, as on this machine; a user other than root goes through sudo
if [ "$(id -u)" != 0 ]; then export PODMAN="sudo podman"; fi
${PODMAN:-podman} --version
cargo xtask image
python3 .ci/image.py
