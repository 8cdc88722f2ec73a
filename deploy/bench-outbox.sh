#!/usr/bin/env bash
# Measures what numbering events in commit order costs the writers, with
# pgbench on a private durable Postgres, three ways in one run:
#   before     - events inserted in (txid, seq) order, read below the
#                cluster's oldest running transaction (what we had);
#   head-lock  - each writer takes the next position from a one-row counter
#                held until commit (considered: writers take turns on fsync);
#   sequencer  - writers insert unnumbered; a sequencer numbers committed
#                events every 20 ms (what platform::outbox does).
# Prints writer transactions per second for each, twice.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/deploy/lib/postgres.sh"
bin=$(pg_bin_dir)
work=$(mktemp -d /tmp/socsec-bench-outbox.XXXXXX); chmod 755 "$work"
data="$work/pg"
port=$(pg_free_port $((57432 + RANDOM % 500)))
trap 'pg_stop "$data"; rm -rf "$work"' EXIT
pg_start "$data" "$port" durable
pg=(-h 127.0.0.1 -p "$port" -U postgres)
"$bin/psql" "${pg[@]}" -q postgres <<'SQL'
CREATE TABLE work (id bigserial PRIMARY KEY, v int);
CREATE TABLE outbox_before (seq bigserial PRIMARY KEY, txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_type text, payload bytea, occurred_at timestamptz DEFAULT now());
CREATE TABLE outbox (seq bigserial PRIMARY KEY, position bigint, txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  event_type text, payload bytea, occurred_at timestamptz DEFAULT now());
CREATE UNIQUE INDEX ON outbox (position) WHERE position IS NOT NULL;
CREATE INDEX ON outbox (seq) WHERE position IS NULL;
CREATE TABLE outbox_head (singleton boolean PRIMARY KEY DEFAULT true, position bigint NOT NULL);
INSERT INTO outbox_head VALUES (true, 0);
SQL
event="ARRAY['CardActivated']::text[], ARRAY['\\x0102030405060708090a0b0c0d0e0f10'::bytea]"
cat > "$work/before.sql" <<SQL
BEGIN;
INSERT INTO work (v) VALUES (1);
INSERT INTO outbox_before (event_type, payload) SELECT t, p FROM UNNEST($event) AS u(t, p);
COMMIT;
SQL
cat > "$work/head-lock.sql" <<SQL
BEGIN;
INSERT INTO work (v) VALUES (1);
WITH head AS (UPDATE outbox_head SET position = position + 1 RETURNING position - 1 AS base)
INSERT INTO outbox (position, event_type, payload)
SELECT head.base + u.n, u.t, u.p FROM head, UNNEST($event) WITH ORDINALITY AS u(t, p, n);
COMMIT;
SQL
cat > "$work/sequencer.sql" <<SQL
BEGIN;
INSERT INTO work (v) VALUES (1);
INSERT INTO outbox (event_type, payload) SELECT t, p FROM UNNEST($event) AS u(t, p);
COMMIT;
SQL
cat > "$work/sequence.sql" <<'SQL'
BEGIN;
SELECT pg_advisory_xact_lock(42);
WITH pending AS (SELECT seq, row_number() OVER (ORDER BY seq) AS n FROM outbox
                 WHERE position IS NULL ORDER BY seq LIMIT 10000),
     head AS (UPDATE outbox_head SET position = position + (SELECT count(*) FROM pending)
              RETURNING position - (SELECT count(*) FROM pending) AS base)
UPDATE outbox o SET position = head.base + pending.n FROM pending, head WHERE o.seq = pending.seq;
COMMIT;
\sleep 20 ms
SQL
writers() {
  "$bin/pgbench" "${pg[@]}" -n -c 8 -j 2 -T 10 -f "$work/$1.sql" postgres 2>/dev/null |
    awk '/^tps/ { printf "%.0f", $3 }'
}
for round in 1 2; do
  printf 'round %s: before %s tx/s' "$round" "$(writers before)"
  printf ', head-lock %s tx/s' "$(writers head-lock)"
  "$bin/pgbench" "${pg[@]}" -n -c 1 -T 10 -f "$work/sequence.sql" postgres >/dev/null 2>&1 &
  printf ', sequencer %s tx/s\n' "$(writers sequencer)"
  wait
done
"$bin/psql" "${pg[@]}" -Atq -c "SELECT 'unnumbered after the last run: ' || count(*) FILTER (WHERE position IS NULL) || ' of ' || count(*) FROM outbox" postgres
