#!/usr/bin/env bash
# Benchmarks the services side by side with what Postgres itself does on
# this machine, in one run, and writes BENCHMARKS.md.
#
# Starts a private Postgres with the settings `deploy/run.sh` uses (unless
# DATABASE_URL is set), builds release binaries, measures pgbench and COPY
# baselines, starts the four services and drives them with socsec-bench.
# Arguments are passed to socsec-bench (see `socsec-bench --help`);
# `--persons N[,N…]` runs the scale mode (a province of N persons imported,
# then the loads measured on it) instead of the default loads.
# SOCSEC_BENCH_PROFILE=debug builds and runs debug binaries (to try the
# command quickly; figures from it mean nothing).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib/postgres.sh

bin=$(pg_bin_dir)
if [ -z "${DATABASE_URL:-}" ]; then
  data=$(mktemp -d /tmp/socsec-bench-pg.XXXXXX)
  chmod 755 "$data"
  port=$(pg_free_port 56432)
  cleanup() { pg_stop "$data"; rm -rf "$data"; }
  trap cleanup EXIT
  pg_start "$data" "$port" durable
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
fi

profile=${SOCSEC_BENCH_PROFILE:-release}
case "$profile" in
  release) cargo build --release --locked --bins; dir=target/release ;;
  debug) cargo build --locked --bins; dir=target/debug ;;
  *) echo "SOCSEC_BENCH_PROFILE must be release or debug" >&2; exit 2 ;;
esac
"$dir/socsec-bench" --pgbench "$bin/pgbench" --bin-dir "$dir" "$@"
