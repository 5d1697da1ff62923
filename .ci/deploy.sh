#!/usr/bin/env bash
# The deployment manifests: each kustomize overlay rendered (kubectl
# kustomize; Debian's kubernetes-client when kubectl is missing) and validated
# against the Kubernetes schemas (kubernetes-validate --strict), none holding a
# Secret; the KServe resources loaded into the kserve SDK's models
# (deploy/validate.py). The tools come from PyPI into a venv made here.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deploy-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  'kubernetes-validate==1.37.0' 'kserve==0.21.0' 'PyYAML==6.0.3'
if ! command -v kubectl >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq kubernetes-client >/dev/null
fi
out=target/deploy-rendered
rm -rf "$out"
mkdir -p "$out"
for dir in deploy/kubernetes/base deploy/kubernetes/overlays/*; do
  name=$(basename "$dir")
  kubectl kustomize "$dir" >"$out/$name.yaml"
  if grep -qE '^kind: Secret$' "$out/$name.yaml"; then
    echo "$dir renders a Secret: reference one by name instead, never commit its values" >&2
    exit 1
  fi
  "$venv/bin/kubernetes-validate" --strict --quiet "$out/$name.yaml"
  echo "$dir: $(grep -c '^kind:' "$out/$name.yaml") resources, valid (strict)"
done
"$venv/bin/python" deploy/validate.py deploy/kserve/*.yaml
