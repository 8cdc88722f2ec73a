#!/usr/bin/env bash
# Benchmarks the services side by side with what Postgres itself does on
# this machine, in one run, and writes BENCHMARKS.md.
#
# Starts a private Postgres with the settings `deploy/run.sh` uses (unless
# DATABASE_URL is set), builds release binaries, measures pgbench and COPY
# baselines, starts the four services and drives them with socsec-bench.
# Arguments are passed to socsec-bench (see `socsec-bench --help`).
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

cargo build --release --locked --bins
target/release/socsec-bench --pgbench "$bin/pgbench" --bin-dir target/release "$@"
