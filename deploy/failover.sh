#!/usr/bin/env bash
# Failover, measured: brings up the Patroni cluster (`deploy/cluster.sh
# --database-only`: etcd, three Postgres 15 nodes with synchronous
# replication, HAProxy), then socsec-faults starts two instances of every
# service against it (callers balancing over both), drives activations,
# eligibility checks, loss reports and payments, and
#   1. kills the primary's postmaster (kill -9): how long until a write
#      commits again, the calls by gRPC code meanwhile, and — checked in the
#      database afterwards — no acknowledged activation or payment lost;
#   2. kills one instance of every service (kill -9), started again after
#      the hold: the other instances carry the load, nothing answered OK lost.
# Writes target/RELIABILITY-cluster.md (`--short`: shorter holds). Exits
# non-zero when an invariant fails. Stops the cluster at the end.
#
# Builds release binaries (SOCSEC_FAULTS_PROFILE=dev: debug ones, which
# reuse what `deploy/test.sh` compiled). Runs as root or as a user who may
# read the Postgres nodes' postmaster.pid (the primary is found through
# HAProxy, its pid in its data directory).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

export SOCSEC_CLUSTER_DIR=${SOCSEC_CLUSTER_DIR:-$repo/.data/cluster}
rm -f "$SOCSEC_CLUSTER_DIR/cluster.env"
deploy/cluster.sh --database-only &
cluster=$!
stop_cluster() {
  kill -TERM "$cluster" 2>/dev/null || true
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
  dev) cargo build --locked --bins; built=target/debug ;;
  *) echo "SOCSEC_FAULTS_PROFILE is release or dev" >&2; exit 2 ;;
esac
"$built/socsec-faults" --cluster \
  --database-url "$SOCSEC_CLUSTER_ADMIN_URL" --bin-dir "$built" "$@"
