#!/usr/bin/env bash
# Runs every test of the workspace against a real PostgreSQL.
#
# Unless DATABASE_URL is set (a server whose user may create databases), a
# private throwaway cluster is started and removed afterwards. Each test makes
# its own database on it, and the tests scan its log (SOCSEC_TEST_PG_LOG; set
# it yourself with DATABASE_URL to scan your server's). Arguments are passed
# to `cargo test`.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib/postgres.sh
. deploy/lib/chromium.sh

# The portal's browser tests drive Debian's Chromium headless.
chromium_ensure

if [ -z "${DATABASE_URL:-}" ]; then
  data=$(mktemp -d /tmp/socsec-test-pg.XXXXXX)
  chmod 755 "$data"
  cleanup() { pg_stop "$data"; rm -rf "$data"; }
  trap cleanup EXIT
  port=$(pg_start_free "$data" fast 55432)
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  # The tests read the server's log too: no personal data may reach it.
  export SOCSEC_TEST_PG_LOG="$data/server.log"
fi

# cargo prints one result line per test target; the last line sums them all.
log=$(mktemp /tmp/socsec-test-log.XXXXXX)
set +e
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '^test result:' "$log" | awk '
  { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
  END { printf "%d passed, %d failed", p, f }')
rm -f "$log"
echo "tests: $summary"
exit "$status"
