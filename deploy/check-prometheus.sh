#!/usr/bin/env bash
# Checks deploy/prometheus/: `promtool check config` (which also checks the
# rule files it names), `promtool check rules`, and the rules' unit tests
# (`promtool test rules alerts.test.yml`: each alert fires on the series it
# is meant for, and not on the others). Installs Debian's
# `prometheus` package (it ships promtool) if promtool is missing.
set -euo pipefail
cd "$(dirname "$0")/prometheus"

if ! command -v promtool >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "check-prometheus: installing the prometheus package (for promtool)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

promtool check config prometheus.yml
promtool check rules alerts.yml
promtool test rules alerts.test.yml
