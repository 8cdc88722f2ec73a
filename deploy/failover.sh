#!/usr/bin/env bash
# The cluster's fault suite: brings up the Patroni cluster (`deploy/cluster.sh
# --database-only`: etcd, three Postgres 15 nodes with synchronous
# replication, HAProxy, every process supervised) on $SOCSEC_CLUSTER_DIR
# (default .data/cluster; whatever an earlier run, failover or crash left
# there), then socsec-faults starts two instances of every service against
# it (callers balancing over both), drives activations, eligibility checks,
# loss reports and payments, and one after another:
#   1. kills the primary's postmaster (kill -9): Patroni promotes the
#      synchronous standby, the old primary is rewound and rejoins;
#   2. kills the primary's Patroni: the supervisor starts it again and it
#      adopts its running Postgres;
#   3. kills the synchronous standby's postmaster;
#   4. kills the etcd member that leads;
#   5. cuts the primary off from etcd, the other nodes and the services
#      (its paths through HAProxy disabled) for the hold, then heals;
#   6. kills one instance of every service, started again after the hold;
#   7. stops the whole cluster and starts it again on its data.
# After each: every invariant of deploy/faults.sh (nothing answered OK
# lost or doubled, ledger = bills, honest codes, …) and every node back,
# both standbys streaming. Writes target/RELIABILITY-cluster.md (`--short`:
# shorter holds; `--only KEY,…`: chosen faults). Exits non-zero when an
# invariant fails. Stops the cluster at the end.
#
# Builds release binaries (SOCSEC_FAULTS_PROFILE=dev: debug ones, which
# reuse what `deploy/test.sh` compiled). Runs as root or as a user who may
# read the Postgres nodes' postmaster.pid and signal their processes.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

export SOCSEC_CLUSTER_DIR=${SOCSEC_CLUSTER_DIR:-$repo/.data/cluster}
rm -f "$SOCSEC_CLUSTER_DIR/cluster.env"
deploy/cluster.sh --database-only &
cluster=$!
# The cluster running now: the one started here, or the one the suite
# started again (its pid in cluster.pid).
stop_cluster() {
  local pid
  pid=$(cat "$SOCSEC_CLUSTER_DIR/cluster.pid" 2>/dev/null || echo "$cluster")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 600); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$cluster" 2>/dev/null || true
}
trap stop_cluster EXIT

for _ in $(seq 1 300); do
  [ -s "$SOCSEC_CLUSTER_DIR/cluster.env" ] && break
  kill -0 "$cluster" 2>/dev/null || { echo "failover: the cluster did not come up" >&2; exit 1; }
  sleep 1
done
[ -s "$SOCSEC_CLUSTER_DIR/cluster.env" ] || { echo "failover: the cluster did not come up within 300 s" >&2; exit 1; }
. "$SOCSEC_CLUSTER_DIR/cluster.env"

case "${SOCSEC_FAULTS_PROFILE:-release}" in
  release) cargo build --release --locked --bins; built=target/release ;;
  dev) [ -n "${SOCSEC_DEBUG_BUILT:-}" ] || cargo build --locked --bins; built=target/debug ;;
  *) echo "SOCSEC_FAULTS_PROFILE is release or dev" >&2; exit 2 ;;
esac
"$built/socsec-faults" --cluster \
  --cluster-dir "$SOCSEC_CLUSTER_DIR" --cluster-script "$repo/deploy/cluster.sh" \
  --database-url "$SOCSEC_CLUSTER_ADMIN_URL" --bin-dir "$built" "$@"
