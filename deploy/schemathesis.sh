#!/usr/bin/env bash
# Fuzzes the JSON interface of the running services with schemathesis
# against docs/openapi.json: no answer may be a 5xx, and every answer must
# match the document. Installs schemathesis into target/schemathesis-venv
# if missing, starts the system with deploy/run.sh (debug binaries, a
# throw-away data directory, the usual ports 50051-50054) and calls every
# service's RPCs as the demo operator (but the event streams, which stay
# open by design; tests/tests/json.rs reads one as NDJSON).
#
#   deploy/schemathesis.sh                  # SOCSEC_SCHEMATHESIS_EXAMPLES=25 per RPC
#   SOCSEC_SCHEMATHESIS_EXAMPLES=200 deploy/schemathesis.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

examples=${SOCSEC_SCHEMATHESIS_EXAMPLES:-25}
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "schemathesis: installing into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet 'schemathesis>=4.1,<5'
fi

data=$(mktemp -d /tmp/socsec-schemathesis.XXXXXX)
log="$data/run.log"
: >"$log"
SOCSEC_PROFILE=dev SOCSEC_DATA_DIR="$data" deploy/run.sh >"$log" 2>&1 &
run_pid=$!
# On failure the services' own log (what they said about each refused or
# failed call) is kept beside schemathesis' output, and its end shown.
kept=target/schemathesis-services.log
stop() {
  local status=$?
  kill -TERM "$run_pid" 2>/dev/null || true
  wait "$run_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    cp "$log" "$kept"
    echo "schemathesis: failed; the services' log is kept in $kept; its end:" >&2
    tail -n 60 "$kept" >&2
  fi
  rm -rf "$data"
}
trap stop EXIT

for _ in $(seq 1 600); do
  grep -q "socsec: running" "$log" && break
  if ! kill -0 "$run_pid" 2>/dev/null; then
    cat "$log" >&2
    echo "schemathesis: deploy/run.sh stopped before the services ran" >&2
    exit 1
  fi
  sleep 1
done
grep -q "socsec: running" "$log" || { cat "$log" >&2; exit 1; }

pki="$data/pki"
status=0
for service in identity:50051 card:50052 activation:50053 contribution:50054; do
  package=${service%%:*} port=${service##*:}
  echo "schemathesis: socsec.$package.v1 on :$port ($examples examples per RPC)" >&2
  "$venv/bin/schemathesis" --no-color run docs/openapi.json \
    --url "https://127.0.0.1:$port" \
    --include-path-regex "^/socsec\\.$package\\.v1\\." \
    --exclude-path-regex "/Watch[A-Za-z]*Events$" \
    --request-cert "$pki/operator-OP0001.pem" \
    --request-cert-key "$pki/operator-OP0001-key.pem" \
    --tls-verify "$pki/internal-ca.pem" \
    --checks not_a_server_error,response_schema_conformance,content_type_conformance \
    --max-examples "$examples" \
    --request-timeout 10 || status=1
done
exit $status
