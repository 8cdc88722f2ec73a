#!/usr/bin/env bash
# Runs the whole system on this machine: a private PostgreSQL (unless
# DATABASE_URL is set), migrations, and every service as its own process.
# Ctrl-C stops everything; data stays in $SOCSEC_DATA_DIR (default ./.data)
# and the next run reuses it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib/postgres.sh

data_dir=${SOCSEC_DATA_DIR:-$repo/.data}
mkdir -p "$data_dir"
chmod 755 "$data_dir"

started_pg=""
if [ -z "${DATABASE_URL:-}" ]; then
  pg_data="$data_dir/postgres"
  port=${SOCSEC_PG_PORT:-$(pg_free_port 54329)}
  pg_start "$pg_data" "$port" durable
  started_pg="$pg_data"
  pg_create_database "$port" socsec
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/socsec"
fi

# Persons' session tokens are signed with a key kept in the data directory.
secret_file="$data_dir/session-token-secret"
if [ ! -s "$secret_file" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' >"$secret_file")
fi
export SOCSEC_SESSION_TOKEN_SECRET=${SOCSEC_SESSION_TOKEN_SECRET:-$(cat "$secret_file")}

# E-card QR tokens are signed by card-issuance with a key of its own.
ecard_secret_file="$data_dir/ecard-token-secret"
if [ ! -s "$ecard_secret_file" ]; then
  (umask 077; head -c 48 /dev/urandom | base64 | tr -d '\n' >"$ecard_secret_file")
fi
export SOCSEC_CARD_ISSUANCE_ECARD_TOKEN_SECRET=${SOCSEC_CARD_ISSUANCE_ECARD_TOKEN_SECRET:-$(cat "$ecard_secret_file")}

# SOCSEC_PROFILE=dev runs debug binaries (deploy/schemathesis.sh uses
# them); SOCSEC_DEBUG_BUILT=1 runs those in target/debug as they are
# (.ci/run built them with the tests: a plain `cargo build --bins` resolves
# features without the tests' dev-dependencies and compiles the workspace
# again).
case "${SOCSEC_PROFILE:-release}" in
  release) echo "socsec: building the services (release)" >&2
           cargo build --release --locked --bins; bin=target/release ;;
  dev) [ -n "${SOCSEC_DEBUG_BUILT:-}" ] || cargo build --locked --bins; bin=target/debug ;;
  *) echo "SOCSEC_PROFILE is release or dev" >&2; exit 2 ;;
esac

# Mutual TLS with development certificates, made once and kept in the data
# directory: the partner CA (partners' certificates) and the internal CA
# (the services' and the operators'), a revocation list for each, one
# certificate per service and per demo partner, in $SOCSEC_CERTS. The CA
# keys go to $SOCSEC_CA_KEYS, a directory of their own (mode 0700) that no
# service's configuration names: the services read certificates, their own
# key and the revocation lists, never a CA key. `socsec certs --issue` and
# `socsec certs revoke` use the keys. Set SOCSEC_TLS_PARTNER_CA_FILE,
# SOCSEC_TLS_INTERNAL_CA_FILE, SOCSEC_TLS_*_CRL_FILE and
# SOCSEC_<SERVICE>_TLS_CERT_FILE/_KEY_FILE to use your own instead.
export SOCSEC_CERTS=${SOCSEC_CERTS:-$data_dir/pki}
export SOCSEC_CA_KEYS=${SOCSEC_CA_KEYS:-$data_dir/ca-keys}
if [ -e "$SOCSEC_CERTS/ca.pem" ] && [ ! -e "$SOCSEC_CERTS/internal-ca.pem" ]; then
  # One CA for everyone, from an earlier version: its certificates chain
  # to nothing the services trust now. Development certificates only.
  echo "socsec: moving the single-CA certificates of an earlier version to $SOCSEC_CERTS.single-ca" >&2
  rm -rf "$SOCSEC_CERTS.single-ca"
  mv "$SOCSEC_CERTS" "$SOCSEC_CERTS.single-ca"
fi
"$bin/socsec" certs >&2  # keeps what is already there
chmod 700 "$SOCSEC_CA_KEYS"
export SOCSEC_TLS_PARTNER_CA_FILE=${SOCSEC_TLS_PARTNER_CA_FILE:-$SOCSEC_CERTS/partner-ca.pem}
export SOCSEC_TLS_INTERNAL_CA_FILE=${SOCSEC_TLS_INTERNAL_CA_FILE:-$SOCSEC_CERTS/internal-ca.pem}
export SOCSEC_TLS_PARTNER_CRL_FILE=${SOCSEC_TLS_PARTNER_CRL_FILE:-$SOCSEC_CERTS/partner-ca.crl.pem}
export SOCSEC_TLS_INTERNAL_CRL_FILE=${SOCSEC_TLS_INTERNAL_CRL_FILE:-$SOCSEC_CERTS/internal-ca.crl.pem}
for name in identity card-issuance activation contribution; do
  prefix="SOCSEC_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  cert_var="${prefix}_TLS_CERT_FILE" key_var="${prefix}_TLS_KEY_FILE"
  export "$cert_var=${!cert_var:-$SOCSEC_CERTS/$name.pem}"
  export "$key_var=${!key_var:-$SOCSEC_CERTS/$name-key.pem}"
done
# The services get no way to the CA keys through their environment.
start_env=(env -u SOCSEC_CA_KEYS)

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "socsec: stopping services" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  [ -z "$started_pg" ] || pg_stop "$started_pg"
  echo "socsec: stopped" >&2
  exit 0
}
trap stop_all INT TERM EXIT

# With SOCSEC_METRICS=1, each service also serves Prometheus metrics on
# 127.0.0.1:946x (the ports deploy/prometheus/prometheus.yml scrapes);
# off by default.
start_service() {
  local name=$1 port=$2 metrics_port=$3 prefix var metrics_var
  prefix="SOCSEC_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  var="${prefix}_LISTEN_ADDR" metrics_var="${prefix}_METRICS_LISTEN"
  export "$var=${!var:-127.0.0.1:$port}"
  if [ -n "${SOCSEC_METRICS:-}" ]; then
    export "$metrics_var=${!metrics_var:-127.0.0.1:$metrics_port}"
  fi
  "${start_env[@]}" "$bin/$name" &
  pids+=($!)
  echo "socsec: $name listening on ${!var}${!metrics_var:+, metrics on ${!metrics_var}} (pid $!)" >&2
}

start_service identity 50051 9461
start_service card-issuance 50052 9462
start_service activation 50053 9463
start_service contribution 50054 9464

# Demo partners and this year's rates, once every service answers (idempotent).
seeded=""
for _ in $(seq 1 60); do
  if "$bin/socsec" partner list >/dev/null 2>&1 && "$bin/socsec" seed-demo >/dev/null 2>&1; then
    echo "socsec: demo partners and rates for region 110100 are in place" >&2
    seeded=yes
    break
  fi
  sleep 1
done
if [ -z "$seeded" ]; then
  echo "socsec: could not seed the demo partners within 60 s; the last attempt said:" >&2
  "$bin/socsec" seed-demo >&2 || true
  exit 1
fi

# The person's web portal: HTTPS with its development certificate (server
# use only), calling the services as each signed-in person; its client
# certificate goes with SignIn alone (sign-ins limited per browser).
export SOCSEC_PORTAL_LISTEN_ADDR=${SOCSEC_PORTAL_LISTEN_ADDR:-127.0.0.1:8443}
export SOCSEC_PORTAL_SERVICES_CA_FILE=${SOCSEC_PORTAL_SERVICES_CA_FILE:-$SOCSEC_CERTS/internal-ca.pem}
export SOCSEC_PORTAL_TLS_CERT_FILE=${SOCSEC_PORTAL_TLS_CERT_FILE:-$SOCSEC_CERTS/portal.pem}
export SOCSEC_PORTAL_TLS_KEY_FILE=${SOCSEC_PORTAL_TLS_KEY_FILE:-$SOCSEC_CERTS/portal-key.pem}
export SOCSEC_PORTAL_CLIENT_CERT_FILE=${SOCSEC_PORTAL_CLIENT_CERT_FILE:-$SOCSEC_CERTS/portal-web.pem}
export SOCSEC_PORTAL_CLIENT_KEY_FILE=${SOCSEC_PORTAL_CLIENT_KEY_FILE:-$SOCSEC_CERTS/portal-web-key.pem}
"${start_env[@]}" "$bin/portal" &
pids+=($!)
echo "socsec: portal at https://localhost:${SOCSEC_PORTAL_LISTEN_ADDR##*:}/ (pid $!; the certificate is from the development CA $SOCSEC_CERTS/internal-ca.pem)" >&2

cat >&2 <<TXT
socsec: running over mutual TLS; press Ctrl-C to stop. Try, in another terminal:
  $bin/socsec --certs $SOCSEC_CERTS demo     (prints an ID number and password for the portal)
  open https://localhost:${SOCSEC_PORTAL_LISTEN_ADDR##*:}/ and sign in
  $bin/socsec --certs $SOCSEC_CERTS --ca-keys $SOCSEC_CA_KEYS certs revoke bank:ICBC
  $bin/socsec --certs $SOCSEC_CERTS --help
TXT
wait -n "${pids[@]}" || true
echo "socsec: a service exited; stopping the rest" >&2
