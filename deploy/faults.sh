#!/usr/bin/env bash
# Injects faults into the running system under a steady mixed load, checks
# invariants after each, and writes docs/RELIABILITY.md (`--short`: the CI
# subset, written to target/RELIABILITY-short.md). Exits non-zero when an
# invariant fails.
#
# Starts a private durable Postgres (it restarts it as one of the faults),
# builds release binaries (SOCSEC_FAULTS_PROFILE=dev: debug ones; CI uses
# those it built with the tests, SOCSEC_DEBUG_BUILT=1, see deploy/run.sh),
# then socsec-faults starts
# the four services as processes and drives them. Arguments are passed to
# socsec-faults (see `socsec-faults --help`; `--only list` lists the faults).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib/postgres.sh

bin=$(pg_bin_dir)
data=$(mktemp -d /tmp/socsec-faults-pg.XXXXXX)
chmod 755 "$data"
cleanup() { pg_stop "$data"; rm -rf "$data"; }
trap cleanup EXIT
port=$(pg_start_free "$data" durable 57432)
owner=()
[ "$(id -u)" -ne 0 ] || owner=(--pg-owner postgres)

case "${SOCSEC_FAULTS_PROFILE:-release}" in
  release) cargo build --release --locked --bins; built=target/release ;;
  dev) [ -n "${SOCSEC_DEBUG_BUILT:-}" ] || cargo build --locked --bins; built=target/debug ;;
  *) echo "SOCSEC_FAULTS_PROFILE is release or dev" >&2; exit 2 ;;
esac
"$built/socsec-faults" \
  --database-url "postgres://postgres@127.0.0.1:$port/postgres" \
  --bin-dir "$built" --pg-ctl "$bin/pg_ctl" --pg-data "$data" "${owner[@]}" "$@"
