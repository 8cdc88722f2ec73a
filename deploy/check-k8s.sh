#!/usr/bin/env bash
# Checks the image and the Kubernetes manifests without a cluster:
#   1. `kubectl kustomize` renders deploy/k8s/base and deploy/k8s/production;
#   2. checkov (pinned below) finds no failed check in the rendered production
#      manifests nor in the Dockerfile. Open-source checkov reports no
#      severities, so every failed check counts; the few skipped are listed,
#      each with its reason, in deploy/checkov.yaml.
# Installs checkov into a virtualenv under .data/ on first use (needs
# python3 and PyPI); kubectl must be installed (it says so if not).
# The rendered files are left in target/k8s/ for a look.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION=3.3.30
venv=".data/checkov-$CHECKOV_VERSION"
out=target/k8s

if ! command -v kubectl >/dev/null 2>&1; then
  echo "check-k8s: kubectl is not installed; install it (https://kubernetes.io/docs/tasks/tools/)" >&2
  exit 1
fi

mkdir -p "$out"
for overlay in base production; do
  kubectl kustomize "deploy/k8s/$overlay" >"$out/$overlay.yaml"
  echo "check-k8s: deploy/k8s/$overlay renders ($(grep -c '^kind:' "$out/$overlay.yaml") objects)"
done

if [ ! -x "$venv/bin/checkov" ]; then
  echo "check-k8s: installing checkov $CHECKOV_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "checkov==$CHECKOV_VERSION"
fi

# --skip-download: no policy download from the vendor's platform (no account).
"$venv/bin/checkov" --config-file deploy/checkov.yaml \
  --framework kubernetes dockerfile \
  -f "$out/production.yaml" -f Dockerfile \
  --compact --quiet --skip-download
echo "check-k8s: checkov finds no failed check (skipped: see deploy/checkov.yaml)"
