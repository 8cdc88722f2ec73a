#!/usr/bin/env bash
# A production-shaped cluster on this machine, loopback addresses only:
#
#   etcd (3 members)      the consensus store Patroni keeps the leader lock in
#   Patroni + Postgres 15 three nodes, one primary and two standbys,
#   (3 nodes)             synchronous replication (`synchronous_mode: true`):
#                         a commit is acknowledged once a standby has it, so
#                         it survives losing the primary; Patroni promotes the
#                         synchronous standby when the primary fails
#   HAProxy               one address for the services (127.0.0.1:5440) that
#                         always leads to the current primary, found by asking
#                         each node's Patroni REST API (`GET /primary`)
#   two instances of      calls spread over both by the callers themselves:
#   every service         each address is a comma-separated list, and the
#                         clients balance over the instances answering their
#                         health check (`socsec_core::balance`), so mutual TLS
#                         stays end to end
#   Prometheus            scrapes all eight instances' metrics ports and the
#                         three Patroni nodes, with deploy/prometheus/alerts.yml
#
#   the portal          one instance on https://127.0.0.1:8443, calling both
#                         instances of each service
#
# Installs what is missing (Debian packages patroni, etcd-server, haproxy,
# prometheus, postgresql-15, curl; apt-get as root), migrates each service once,
# starts everything, seeds the demo partners, prints the addresses, and
# stops everything on Ctrl-C. Data stays in $SOCSEC_CLUSTER_DIR (default
# .data/cluster); the next run reuses it, whatever ended the last one (a
# clean stop, a failover, a crash): what an earlier run left running is
# stopped first, and a node that cannot rejoin is named with the way to mend
# it. Every process is supervised: one that exits (a Patroni node, an etcd
# member, HAProxy, an instance of a service) is started again, never the
# whole deployment stopped; a Patroni is started again with its Postgres.
#
# SOCSEC_PROFILE=dev runs debug binaries (what `deploy/test.sh` compiled),
# release (the default) builds release ones, as deploy/run.sh does.
# `--database-only` brings up etcd, Patroni and HAProxy only (the cluster's
# fault suite, deploy/failover.sh, starts the services itself);
# `--install-only` installs the packages and stops (CI, beside its build).
set -euo pipefail
# Each background process in a process group of its own: Ctrl-C reaches
# this script only, which stops everything in order (Patroni before etcd).
set -m
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

database_only="" install_only=""
case "${1:-}" in
  --database-only) database_only=yes ;;
  --install-only) install_only=yes ;;
  "") ;;
  *) echo "usage: deploy/cluster.sh [--database-only | --install-only]" >&2; exit 2 ;;
esac

log() { printf 'cluster: %s\n' "$*" >&2; }

# --- packages ---------------------------------------------------------------
missing=()
command -v patroni >/dev/null || missing+=(patroni)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v prometheus >/dev/null || missing+=(prometheus)
ls /usr/lib/postgresql/15/bin/postgres >/dev/null 2>&1 || missing+=(postgresql-15)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing ${missing[*]}"
  # The packages' own services (a system-wide etcd on 2379, haproxy) are
  # not used: this cluster runs its own processes on other ports.
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
[ -z "$install_only" ] || exit 0
pg_bin=/usr/lib/postgresql/15/bin
haproxy_bin=$(command -v haproxy || echo /usr/sbin/haproxy)

# --- places and ports -------------------------------------------------------
dir=${SOCSEC_CLUSTER_DIR:-$repo/.data/cluster}
mkdir -p "$dir/logs" "$dir/pids"
chmod 755 "$dir"
# Postgres refuses to run as root: Patroni and Postgres run as `postgres`.
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # setpriv execs (runuser would stand between, and SIGKILL Patroni two
  # seconds into its shutdown, before it has stopped its Postgres).
  as_pg=(env HOME=/var/lib/postgresql setpriv --reuid=postgres --regid=postgres --init-groups --)
  id postgres >/dev/null 2>&1 || { log "no postgres user (the postgresql package makes it)"; exit 1; }
fi

etcd_client=(2479 2481 2483)   # each member's peer port is the next one
pg_ports=(5441 5442 5443)
rest_ports=(8101 8102 8103)
haproxy_port=5440
haproxy_stats=7440
# Each node reaches etcd, and is reached by the others and by the services,
# through HAProxy (node n's path to etcd member k on 26<n><k>, to node n's
# Postgres on 545<n>): a fault can cut one node off, a network partition.
pg_paths=(5451 5452 5453)
prometheus_port=9490
portal_port=8443
service_names=(identity card-issuance activation contribution)
# The first instances on the ports deploy/run.sh and the CLI default to; the
# second ones below Linux's ephemeral range (32768–60999), where an outgoing
# connection cannot have taken the port a moment before (the first ones can
# meet that: the instance is then started again, as after any exit).
grpc_a=(50051 50052 50053 50054) grpc_b=(30151 30152 30153 30154)
metrics_a=(9461 9462 9463 9464) metrics_b=(9471 9472 9473 9474)

# --- what an earlier run left -----------------------------------------------
# One run at a time on a data directory.
if [ -s "$dir/cluster.pid" ]; then
  other=$(cat "$dir/cluster.pid")
  if [ "$other" != $$ ] && kill -0 "$other" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$other/cmdline" 2>/dev/null | grep -q cluster.sh; then
    log "deploy/cluster.sh (pid $other) already runs on $dir; stop it first (kill -TERM $other)"
    exit 1
  fi
fi
echo $$ >"$dir/cluster.pid"
# Processes of an earlier run that ended without stopping them (the script
# killed, the machine's session ended): Patroni first (it stops its
# Postgres), then the rest. Each names this directory on its command line.
leftovers() {
  local pattern=$1 pids
  pids=$(pgrep -f -- "$pattern" | grep -vx "$$" || true)
  [ -n "$pids" ] || return 0
  log "stopping what an earlier run left running: $(ps -o comm= -p $(echo $pids | tr ' ' ,) | sort | uniq -c | xargs)"
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 $pids 2>/dev/null || return 0
    sleep 0.5
  done
  kill -KILL $pids 2>/dev/null || true
}
leftovers "patroni $dir/patroni"
# A node's Postgres still running without its Patroni: stopped cleanly, so
# Patroni starts it again in the role the cluster gives it. (Patroni 3.0.2
# adopts a running Postgres, but an adopted primary is left without its
# synchronous standby: Patroni rewrites postgresql.conf without
# synchronous_standby_names and, its /sync key unchanged, never sets it
# again. Commits would then be acknowledged before any standby has them.)
stop_orphan_postgres() {
  local n pid nodes=("$@")
  [ $# -gt 0 ] || nodes=(1 2 3)
  for n in "${nodes[@]}"; do
    pid=$(head -n 1 "$dir/pg$n/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      log "Postgres of node pg$n (pid $pid) runs without its Patroni; stopping it (pg_ctl stop -m fast)"
      "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg$n" stop -m fast -w -t 60 >/dev/null 2>&1 ||
        "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$dir/pg$n" stop -m immediate -w -t 30 >/dev/null 2>&1 || true
    fi
  done
}
stop_orphan_postgres
leftovers "$dir/etcd"
leftovers "$dir/haproxy.cfg"
leftovers "$dir/prometheus/"
# The services' instances and the portal, by the pids the last run noted
# (only if the pid still runs that program).
for file in "$dir"/pids/*; do
  [ -f "$file" ] || continue
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq '(identity|card-issuance|activation|contribution|portal)'; then
    log "stopping $(basename "$file") (pid $pid), left running by an earlier run"
    kill -TERM "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
done

busy=()
in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports=("${etcd_client[@]}" "${pg_ports[@]}" "${pg_paths[@]}" "${rest_ports[@]}" $haproxy_port $haproxy_stats)
for n in 1 2 3; do for k in 1 2 3; do ports+=("26$n$k"); done; done
for p in "${etcd_client[@]}"; do ports+=($((p + 1))); done
[ -n "$database_only" ] || ports+=($prometheus_port $portal_port "${grpc_a[@]}" "${grpc_b[@]}" "${metrics_a[@]}" "${metrics_b[@]}")
for p in "${ports[@]}"; do in_use "$p" && busy+=("$p"); done
if [ ${#busy[@]} -gt 0 ]; then
  log "ports already in use on 127.0.0.1: ${busy[*]}"
  command -v ss >/dev/null && for p in "${busy[@]}"; do
    ss -Hltnp "sport = :$p" 2>/dev/null | sed 's/^/  /' >&2
  done
  log "another cluster or deploy/run.sh is running: stop it, or its processes above"
  exit 1
fi

# Passwords of the database roles, made once (mode 0600).
secret() {
  local file="$dir/$1"
  [ -s "$file" ] || (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$file")
  cat "$file"
}
superuser_password=$(secret postgres-password)
replication_password=$(secret replication-password)

# --- supervising ------------------------------------------------------------
# Every process by name (etcd1…3, patroni1…3, haproxy, prometheus, portal,
# and each service instance by port); `tend` starts again any that exited.
declare -A pid_of=()
started() {
  pid_of[$1]=$2
  echo "$2" >"$dir/pids/$1"
}
start() {
  case $1 in
    etcd[123]) start_etcd "${1#etcd}" ;;
    patroni[123]) stop_orphan_postgres "${1#patroni}"; start_patroni "${1#patroni}" ;;
    haproxy) start_haproxy ;;
    prometheus) start_prometheus ;;
    portal) start_portal ;;
    *) start_instance "$1" ;;
  esac
}
declare -A instance_of=()
tend() {
  local name
  for name in "${!pid_of[@]}"; do
    kill -0 "${pid_of[$name]}" 2>/dev/null && continue
    wait "${pid_of[$name]}" 2>/dev/null || true
    local what=$name i
    if [ -n "${instance_of[$name]:-}" ]; then
      read -r i _ <<<"${instance_of[$name]}"
      what="${service_names[$i]} :$name"
    fi
    log "$what (pid ${pid_of[$name]}) exited; starting it again"
    start "$name"
  done
}
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  local first=() name
  for name in "${!pid_of[@]}"; do
    case $name in etcd* | patroni*) ;; *) first+=("${pid_of[$name]}") ;; esac
  done
  if [ ${#first[@]} -gt 0 ]; then
    kill -TERM "${first[@]}" 2>/dev/null || true
    wait "${first[@]}" 2>/dev/null || true
  fi
  # Patroni stops its Postgres on SIGTERM (a fast shutdown), then exits; a
  # Postgres left without its Patroni is stopped here, before etcd goes.
  local patroni=() etcd=()
  for name in "${!pid_of[@]}"; do
    case $name in patroni*) patroni+=("${pid_of[$name]}") ;; etcd*) etcd+=("${pid_of[$name]}") ;; esac
  done
  if [ ${#patroni[@]} -gt 0 ]; then
    kill -TERM "${patroni[@]}" 2>/dev/null || true
    wait "${patroni[@]}" 2>/dev/null || true
  fi
  stop_orphan_postgres
  if [ ${#etcd[@]} -gt 0 ]; then
    kill -TERM "${etcd[@]}" 2>/dev/null || true
    wait "${etcd[@]}" 2>/dev/null || true
  fi
  rm -f "$dir/cluster.env" "$dir/cluster.pid" "$dir"/pids/*
  log "stopped"
  exit 0
}
trap stop_all INT TERM EXIT

# --- etcd -------------------------------------------------------------------
initial=""
for i in 0 1 2; do
  initial+="${initial:+,}etcd$((i + 1))=http://127.0.0.1:$((etcd_client[i] + 1))"
done
start_etcd() {
  local n=$1 c=${etcd_client[$(($1 - 1))]} state=existing
  [ -d "$dir/etcd$n/member" ] || state=new
  etcd --name "etcd$n" --data-dir "$dir/etcd$n" \
    --listen-client-urls "http://127.0.0.1:$c" --advertise-client-urls "http://127.0.0.1:$c" \
    --listen-peer-urls "http://127.0.0.1:$((c + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((c + 1))" \
    --initial-cluster "$initial" --initial-cluster-token socsec-etcd --initial-cluster-state "$state" \
    >>"$dir/logs/etcd$n.log" 2>&1 &
  started "etcd$n" $!
}
for n in 1 2 3; do start_etcd "$n"; done
log "etcd members on 127.0.0.1:${etcd_client[*]}"
# Patroni 3.0.2 exits if it meets an etcd whose cluster version is not yet
# decided (a first start): wait until the members agree on one.
for _ in $(seq 1 60); do
  curl -s -m 1 "http://127.0.0.1:${etcd_client[0]}/version" 2>/dev/null | grep -q '"etcdcluster":"[0-9]' && break
  sleep 0.5
done

# --- Patroni + Postgres -----------------------------------------------------
# Each node's Unix socket and server log live outside its data directory:
# pg_rewind and base backups copy a data directory whole, and another node's
# socket lock file in it stops the copy from starting.
mkdir -p "$dir/run"
for n in 1 2 3; do
  # pg<n>: the data directory; patroni<n>: the node's own files (Patroni
  # writes its pgpass there).
  mkdir -p "$dir/pg$n" "$dir/patroni$n" "$dir/logs/pg$n"
  chmod 700 "$dir/pg$n" "$dir/patroni$n"
  # Sockets and their lock files copied by an earlier run's base backups.
  rm -f "$dir/pg$n"/.s.PGSQL.*
  i=$((n - 1))
  cat >"$dir/patroni$n.yml" <<YAML
# Written by deploy/cluster.sh.
scope: socsec
name: pg$n
log:
  level: INFO
restapi:
  listen: 127.0.0.1:${rest_ports[$i]}
  connect_address: 127.0.0.1:${rest_ports[$i]}
etcd3:
  # Through HAProxy (its paths for this node), never to the members directly.
  hosts: 127.0.0.1:26${n}1,127.0.0.1:26${n}2,127.0.0.1:26${n}3
  use_proxies: true
bootstrap:
  dcs:
    # The leader lock lives 10 s without renewal; each node looks every
    # second. A crashed primary is not restarted in place
    # (primary_start_timeout 0): the synchronous standby is promoted.
    ttl: 10
    loop_wait: 1
    retry_timeout: 3
    primary_start_timeout: 0
    synchronous_mode: true
    maximum_lag_on_failover: 1048576
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 300
        wal_level: replica
        hot_standby: "on"
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        # The server's log must never hold personal data (see
        # deploy/lib/postgres.sh for why each of these).
        log_error_verbosity: terse
        log_min_error_statement: panic
        log_parameter_max_length_on_error: 0
        log_parameter_max_length: 0
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums
postgresql:
  # Written by Patroni into pg_hba.conf at every start, on every node.
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
  listen: 127.0.0.1:${pg_ports[$i]}
  # What the other nodes stream from and rewind against: the path through
  # HAProxy that a partition cuts.
  connect_address: 127.0.0.1:${pg_paths[$i]}
  data_dir: $dir/pg$n
  bin_dir: $pg_bin
  pgpass: $dir/patroni$n/pgpass
  # An old primary that pg_rewind cannot bring onto the new timeline is
  # copied afresh from the primary instead of staying out of the cluster.
  remove_data_directory_on_rewind_failure: true
  remove_data_directory_on_diverged_timelines: true
  authentication:
    superuser: {username: postgres, password: "$superuser_password"}
    replication: {username: replicator, password: "$replication_password"}
    rewind: {username: postgres, password: "$superuser_password"}
  parameters:
    unix_socket_directories: $dir/run
    logging_collector: "on"
    log_directory: $dir/logs/pg$n
YAML
  if [ ${#as_pg[@]} -gt 0 ]; then
    chown postgres: "$dir/pg$n" "$dir/patroni$n" "$dir/patroni$n.yml" "$dir/run" "$dir/logs/pg$n"
    runuser -u postgres -- test -w "$dir/pg$n" || {
      log "the postgres user cannot write $dir/pg$n (is a parent folder private?); set SOCSEC_CLUSTER_DIR"; exit 1; }
  fi
done
start_patroni() {
  "${as_pg[@]}" patroni "$dir/patroni$1.yml" >>"$dir/logs/patroni$1.log" 2>&1 &
  started "patroni$1" $!
}
for n in 1 2 3; do start_patroni "$n"; done

# --- HAProxy ----------------------------------------------------------------
cat >"$dir/haproxy.cfg" <<CFG
# Written by deploy/cluster.sh: 127.0.0.1:$haproxy_port leads to the node
# whose Patroni answers GET /primary with 200 (only the leader does).
global
  maxconn 1000
  # The runtime API: deploy/failover.sh cuts a node off through it.
  stats socket $dir/run/haproxy.sock mode 600 level admin
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen primary
  bind 127.0.0.1:$haproxy_port
  option httpchk GET /primary
  http-check expect status 200
  # Checked every half second; a node that stops being primary has its
  # sessions cut, so no client keeps writing to a demoted node.
  default-server inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions
  server pg1 127.0.0.1:${pg_paths[0]} maxconn 300 check port ${rest_ports[0]}
  server pg2 127.0.0.1:${pg_paths[1]} maxconn 300 check port ${rest_ports[1]}
  server pg3 127.0.0.1:${pg_paths[2]} maxconn 300 check port ${rest_ports[2]}
$(for n in 1 2 3; do
  printf 'listen pg%s_path\n  bind 127.0.0.1:%s\n  server pg 127.0.0.1:%s\n' "$n" "${pg_paths[$((n - 1))]}" "${pg_ports[$((n - 1))]}"
  for k in 1 2 3; do
    printf 'listen etcd_pg%s_%s\n  bind 127.0.0.1:26%s%s\n  server etcd 127.0.0.1:%s\n' "$n" "$k" "$n" "$k" "${etcd_client[$((k - 1))]}"
  done
done)
listen stats
  mode http
  bind 127.0.0.1:$haproxy_stats
  stats enable
  stats uri /
CFG
start_haproxy() {
  "$haproxy_bin" -f "$dir/haproxy.cfg" -db >>"$dir/logs/haproxy.log" 2>&1 &
  started haproxy $!
}
start_haproxy

# The leader, as Patroni's REST API says (the node whose GET /primary is 200).
leader() {
  local i
  for i in 0 1 2; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${rest_ports[$i]}/primary")" = 200 ]; then
      echo "pg$((i + 1))"; return 0
    fi
  done
  return 1
}
# Where the cluster stands, in one line; true when every node runs, both
# standbys stream from the leader and one is synchronous.
members() { python3 "$repo/deploy/lib/cluster-state.py" "${rest_ports[@]}"; }
# Waits until every node runs with a synchronous standby in place (losing
# the primary before that could not be survived), saying where it stands
# every few seconds; after `patience` seconds, says which node is not
# there and how to mend it.
wait_ready() {
  local patience=$1 waited=0 state
  log "waiting for the three Postgres nodes (a first start runs initdb and two base backups)"
  while true; do
    tend
    state=$(members) && { log "ready: $state"; return 0; }
    if [ $((waited % 5)) -eq 0 ]; then log "after ${waited} s: $state"; fi
    if [ "$waited" -ge "$patience" ]; then break; fi
    sleep 1; waited=$((waited + 1))
  done
  log "the nodes are not all running and streaming with a synchronous standby after $patience s: $state"
  local n
  for n in 1 2 3; do
    case $state in *"pg$n leader running"* | *"pg$n sync_standby running streaming"* | *"pg$n replica running streaming"*) continue ;; esac
    log "pg$n, the end of $dir/logs/patroni$n.log:"
    tail -n 5 "$dir/logs/patroni$n.log" | sed 's/^/  /' >&2
    log "to copy pg$n afresh from the primary while the cluster runs:"
    log "  PGPASSWORD=\$(cat $dir/postgres-password) patronictl -c $dir/patroni$n.yml reinit socsec pg$n --force"
    log "or stop the cluster, delete $dir/pg$n, and start it again (the node is copied from the primary)"
  done
  return 1
}
wait_ready "${SOCSEC_CLUSTER_PATIENCE:-180}" || exit 1
export PGPASSWORD=$superuser_password
for _ in $(seq 1 30); do
  "$pg_bin/psql" -h 127.0.0.1 -p $haproxy_port -U postgres -tAc 'SELECT 1' postgres >/dev/null 2>&1 && break
  sleep 1
done
if ! "$pg_bin/psql" -h 127.0.0.1 -p $haproxy_port -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'socsec'" postgres | grep -q 1; then
  "$pg_bin/createdb" -h 127.0.0.1 -p $haproxy_port -U postgres socsec
fi
unset PGPASSWORD
database_url="postgres://postgres:$superuser_password@127.0.0.1:$haproxy_port/socsec"
log "Postgres primary $(leader), reached through HAProxy on 127.0.0.1:$haproxy_port"

# What another program needs to find the cluster (deploy/failover.sh).
write_env() {
  (umask 077; cat >"$dir/cluster.env" <<ENV
SOCSEC_CLUSTER_DATABASE_URL=$database_url
SOCSEC_CLUSTER_ADMIN_URL=postgres://postgres:$superuser_password@127.0.0.1:$haproxy_port/postgres
SOCSEC_CLUSTER_PATRONI=127.0.0.1:${rest_ports[0]},127.0.0.1:${rest_ports[1]},127.0.0.1:${rest_ports[2]}
SOCSEC_CLUSTER_PG_DATA=$dir/pg1,$dir/pg2,$dir/pg3
SOCSEC_CLUSTER_DIR=$dir
ENV
  )
}

if [ -n "$database_only" ]; then
  write_env
  log "database only: ready (see $dir/cluster.env); Ctrl-C stops it"
  while true; do sleep 1; tend; done
fi

# --- the services -----------------------------------------------------------
case "${SOCSEC_PROFILE:-release}" in
  release) log "building the services (release)"; cargo build --release --locked --bins; bin=target/release ;;
  dev) cargo build --locked --bins; bin=target/debug ;;
  *) log "SOCSEC_PROFILE is release or dev"; exit 2 ;;
esac

# Development certificates, session and e-card secrets, as deploy/run.sh
# makes them (its comments say why each).
export SOCSEC_CERTS=${SOCSEC_CERTS:-$dir/pki}
export SOCSEC_CA_KEYS=${SOCSEC_CA_KEYS:-$dir/ca-keys}
"$bin/socsec" certs >&2
chmod 700 "$SOCSEC_CA_KEYS"
export SOCSEC_SESSION_TOKEN_SECRET=${SOCSEC_SESSION_TOKEN_SECRET:-$(secret session-token-secret)}
export SOCSEC_CARD_ISSUANCE_ECARD_TOKEN_SECRET=${SOCSEC_CARD_ISSUANCE_ECARD_TOKEN_SECRET:-$(secret ecard-token-secret)}
export SOCSEC_TLS_PARTNER_CA_FILE=$SOCSEC_CERTS/partner-ca.pem
export SOCSEC_TLS_INTERNAL_CA_FILE=$SOCSEC_CERTS/internal-ca.pem
export SOCSEC_TLS_PARTNER_CRL_FILE=$SOCSEC_CERTS/partner-ca.crl.pem
export SOCSEC_TLS_INTERNAL_CRL_FILE=$SOCSEC_CERTS/internal-ca.crl.pem
export DATABASE_URL=$database_url

# Each service's address: both instances, comma-separated. The services
# calling identity and card-issuance balance over both; so does the CLI.
urls() { echo "https://127.0.0.1:$1,https://127.0.0.1:$2"; }
identity_urls=$(urls "${grpc_a[0]}" "${grpc_b[0]}")
cards_urls=$(urls "${grpc_a[1]}" "${grpc_b[1]}")
activation_urls=$(urls "${grpc_a[2]}" "${grpc_b[2]}")
contribution_urls=$(urls "${grpc_a[3]}" "${grpc_b[3]}")
export SOCSEC_ACTIVATION_IDENTITY_URL=$identity_urls
export SOCSEC_ACTIVATION_CARD_ISSUANCE_URL=$cards_urls
export SOCSEC_CARD_ISSUANCE_IDENTITY_URL=$identity_urls
export SOCSEC_CONTRIBUTION_IDENTITY_URL=$identity_urls

start_env=(env -u SOCSEC_CA_KEYS)
# Each instance is named by its port (`tend` starts it again if it exits,
# the other instance carrying the calls meanwhile).
start_instance() {
  local port=$1 i metrics name prefix
  read -r i metrics <<<"${instance_of[$port]}"
  name=${service_names[$i]}
  prefix="SOCSEC_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  "${start_env[@]}" "${prefix}_LISTEN_ADDR=127.0.0.1:$port" "${prefix}_METRICS_LISTEN=127.0.0.1:$metrics" \
    "$bin/$name" >>"$dir/logs/$name-$port.log" 2>&1 &
  started "$port" $!
}
for i in 0 1 2 3; do
  name=${service_names[$i]}
  prefix="SOCSEC_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  export "${prefix}_TLS_CERT_FILE=$SOCSEC_CERTS/$name.pem" "${prefix}_TLS_KEY_FILE=$SOCSEC_CERTS/$name-key.pem"
  # Both instances use the same schema; migrate once, before either starts.
  "${start_env[@]}" "$bin/$name" --migrate-only >>"$dir/logs/$name-migrate.log" 2>&1 || {
    log "$name: migrations failed; see $dir/logs/$name-migrate.log"; exit 1; }
  instance_of[${grpc_a[$i]}]="$i ${metrics_a[$i]}"
  instance_of[${grpc_b[$i]}]="$i ${metrics_b[$i]}"
  start_instance "${grpc_a[$i]}"
  start_instance "${grpc_b[$i]}"
done
log "services migrated and started, two instances each"

# --- Prometheus -------------------------------------------------------------
mkdir -p "$dir/prometheus"
cp deploy/prometheus/alerts.yml "$dir/prometheus/alerts.yml"
{
  cat <<YAML
# Written by deploy/cluster.sh: every instance of every service, and the
# Patroni nodes (their REST API serves /metrics).
global:
  scrape_interval: 5s
  evaluation_interval: 15s
  external_labels:
    system: socsec
rule_files:
  - alerts.yml
scrape_configs:
  - job_name: socsec
    static_configs:
YAML
  for i in 0 1 2 3; do
    printf '      - targets: ["127.0.0.1:%s", "127.0.0.1:%s"]\n        labels:\n          service: %s\n' \
      "${metrics_a[$i]}" "${metrics_b[$i]}" "${service_names[$i]}"
  done
  cat <<YAML
  - job_name: patroni
    static_configs:
      - targets: ["127.0.0.1:${rest_ports[0]}", "127.0.0.1:${rest_ports[1]}", "127.0.0.1:${rest_ports[2]}"]
YAML
} >"$dir/prometheus/prometheus.yml"
promtool check config "$dir/prometheus/prometheus.yml" >/dev/null
start_prometheus() {
  prometheus --config.file="$dir/prometheus/prometheus.yml" --storage.tsdb.path="$dir/prometheus/data" \
    --web.listen-address="127.0.0.1:$prometheus_port" >>"$dir/logs/prometheus.log" 2>&1 &
  started prometheus $!
}
start_prometheus

# --- the CLI ----------------------------------------------------------------
cat >"$dir/cli.env" <<ENV
# Source this (. $dir/cli.env) to point \`socsec\` at both instances of each service.
export SOCSEC_CERTS=$SOCSEC_CERTS
export SOCSEC_IDENTITY_URL=$identity_urls
export SOCSEC_CARDS_URL=$cards_urls
export SOCSEC_ACTIVATION_URL=$activation_urls
export SOCSEC_CONTRIBUTION_URL=$contribution_urls
ENV
. "$dir/cli.env"
seeded=""
for _ in $(seq 1 90); do
  if "$bin/socsec" partner list >/dev/null 2>&1 && "$bin/socsec" seed-demo >/dev/null 2>&1; then
    seeded=yes; break
  fi
  sleep 1
  tend
done
if [ -z "$seeded" ]; then
  log "could not seed the demo partners within 90 s; the last attempt said:"
  "$bin/socsec" seed-demo >&2 || true
  exit 1
fi
write_env

# --- the portal -------------------------------------------------------------
# The person's web portal (as deploy/run.sh starts it), calling both
# instances of each service. One instance: its CSRF key is its own.
cat >"$dir/portal.env" <<ENV
SOCSEC_PORTAL_LISTEN_ADDR=127.0.0.1:$portal_port
SOCSEC_PORTAL_IDENTITY_URL=$identity_urls
SOCSEC_PORTAL_CARDS_URL=$cards_urls
SOCSEC_PORTAL_ACTIVATION_URL=$activation_urls
SOCSEC_PORTAL_CONTRIBUTION_URL=$contribution_urls
SOCSEC_PORTAL_SERVICES_CA_FILE=$SOCSEC_CERTS/internal-ca.pem
SOCSEC_PORTAL_TLS_CERT_FILE=$SOCSEC_CERTS/portal.pem
SOCSEC_PORTAL_TLS_KEY_FILE=$SOCSEC_CERTS/portal-key.pem
SOCSEC_PORTAL_CLIENT_CERT_FILE=$SOCSEC_CERTS/portal-web.pem
SOCSEC_PORTAL_CLIENT_KEY_FILE=$SOCSEC_CERTS/portal-web-key.pem
ENV
start_portal() {
  (set -a; . "$dir/portal.env"; exec "${start_env[@]}" "$bin/portal") >>"$dir/logs/portal.log" 2>&1 &
  started portal $!
}
start_portal

cat >&2 <<TXT
cluster: running; press Ctrl-C to stop everything.
  Postgres primary   $(leader) — services connect through HAProxy 127.0.0.1:$haproxy_port
                     nodes 127.0.0.1:${pg_ports[*]}, Patroni REST :${rest_ports[*]}
                     (PGPASSWORD=\$(cat $dir/postgres-password) patronictl -c $dir/patroni1.yml list)
  etcd               127.0.0.1:${etcd_client[*]}
  HAProxy stats      http://127.0.0.1:$haproxy_stats/
  identity           $identity_urls
  card-issuance      $cards_urls
  activation         $activation_urls
  contribution       $contribution_urls
  metrics            127.0.0.1:${metrics_a[*]} and :${metrics_b[*]}
  Prometheus         http://127.0.0.1:$prometheus_port/
  portal             https://localhost:$portal_port/ (certificate from the development CA $SOCSEC_CERTS/internal-ca.pem)
  logs               $dir/logs/
Try, in another terminal:
  . $dir/cli.env && $bin/socsec demo     (prints an ID number and password for the portal)
If a node does not come back after a failure, see "When a node does not come back" in README.md.
TXT
while true; do sleep 1; tend; done
