#!/usr/bin/env bash
# Builds the image from the Dockerfile and runs the system from it: a
# Postgres 15 container, each service's migration mode (`--migrate-only`),
# the four services as their own containers (non-root, read-only root
# filesystem, no capabilities, as the Kubernetes manifests run them), their
# health checks (`--health-check`, what the probes run), then `socsec
# seed-demo` and `socsec demo` from the same image. Everything it started is
# removed at the end. Prints the image's size.
#
# Where no Docker engine answers (`docker info` fails), it says so and exits
# 0: CI does not depend on Docker. A first build compiles the workspace in
# release mode inside the builder image (a quarter of an hour on 2 cores).
#
#   deploy/image.sh                  SOCSEC_IMAGE=socsec:dev by default
#   SOCSEC_IMAGE_KEEP=1 deploy/image.sh   leave the containers running
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker >/dev/null 2>&1; then
  echo "image: docker is not installed here; nothing built or run" >&2
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  echo "image: no Docker engine answers here (docker info fails); nothing built or run" >&2
  exit 0
fi

image=${SOCSEC_IMAGE:-socsec:dev}
postgres_image=docker.io/library/postgres:15-bookworm
run_id="socsec-image-$$"
net=$run_id
pki=$run_id-pki
services=(identity card-issuance activation contribution)
ports=(50051 50052 50053 50054)

docker build -t "$image" .
size=$(docker image inspect "$image" --format '{{.Size}}')
echo "image: built $image, $((size / 1024 / 1024)) MiB"

cleanup() {
  if [ -n "${SOCSEC_IMAGE_KEEP:-}" ]; then
    echo "image: left running (network $net, volume $pki); remove with: docker rm -f \$(docker ps -aq --filter label=$run_id) && docker network rm $net && docker volume rm $pki" >&2
    return
  fi
  docker rm -f $(docker ps -aq --filter "label=$run_id") >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
  docker volume rm "$pki" >/dev/null 2>&1 || true
}
trap cleanup EXIT

docker network create "$net" >/dev/null
docker volume create "$pki" >/dev/null
# The certificates volume belongs to the image's user (the image has no shell
# to do it).
docker run --rm --label "$run_id" -v "$pki:/pki" --entrypoint chown "$postgres_image" 65532:65532 /pki

# Postgres, with the settings that keep personal data out of its log.
pg_password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
docker run -d --label "$run_id" --name "$run_id-postgres" --network "$net" --network-alias postgres \
  -e POSTGRES_PASSWORD="$pg_password" -e POSTGRES_DB=socsec "$postgres_image" \
  -c log_error_verbosity=terse -c log_min_error_statement=panic \
  -c log_parameter_max_length=0 -c log_parameter_max_length_on_error=0 >/dev/null
for _ in $(seq 1 60); do
  docker exec "$run_id-postgres" pg_isready -U postgres -d socsec >/dev/null 2>&1 && break
  sleep 1
done
database_url="postgres://postgres:$pg_password@postgres:5432/socsec"

# Development certificates, valid for the containers' names.
hosts=()
for name in "${services[@]}"; do hosts+=(--host "$name"); done
docker run --rm --label "$run_id" -v "$pki:/pki" "$image" \
  certs --certs /pki/certs --ca-keys /pki/ca-keys "${hosts[@]}" >/dev/null

common=(--label "$run_id" --network "$net" --read-only --cap-drop ALL
  --security-opt no-new-privileges -v "$pki:/pki:ro")
tls_env=(-e SOCSEC_TLS_PARTNER_CA_FILE=/pki/certs/partner-ca.pem
  -e SOCSEC_TLS_INTERNAL_CA_FILE=/pki/certs/internal-ca.pem
  -e SOCSEC_TLS_PARTNER_CRL_FILE=/pki/certs/partner-ca.crl.pem
  -e SOCSEC_TLS_INTERNAL_CRL_FILE=/pki/certs/internal-ca.crl.pem)
session_secret=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')

for i in "${!services[@]}"; do
  name=${services[$i]} port=${ports[$i]}
  prefix="SOCSEC_$(printf '%s' "$name" | tr 'a-z-' 'A-Z_')"
  docker run --rm "${common[@]}" -e DATABASE_URL="$database_url" \
    --entrypoint "/usr/local/bin/$name" "$image" --migrate-only
  docker run -d "${common[@]}" --name "$run_id-$name" --network-alias "$name" \
    -e DATABASE_URL="$database_url" -e SOCSEC_SESSION_TOKEN_SECRET="$session_secret" \
    "${tls_env[@]}" \
    -e "${prefix}_LISTEN_ADDR=0.0.0.0:$port" \
    -e "${prefix}_TLS_CERT_FILE=/pki/certs/$name.pem" \
    -e "${prefix}_TLS_KEY_FILE=/pki/certs/$name-key.pem" \
    -e SOCSEC_CARD_ISSUANCE_IDENTITY_URL=https://identity:50051 \
    -e SOCSEC_ACTIVATION_IDENTITY_URL=https://identity:50051 \
    -e SOCSEC_ACTIVATION_CARD_ISSUANCE_URL=https://card-issuance:50052 \
    -e SOCSEC_CONTRIBUTION_IDENTITY_URL=https://identity:50051 \
    --entrypoint "/usr/local/bin/$name" "$image" >/dev/null
done

for name in "${services[@]}"; do
  healthy=""
  for _ in $(seq 1 60); do
    if docker exec "$run_id-$name" "/usr/local/bin/$name" --health-check 2>/dev/null; then
      healthy=yes
      break
    fi
    sleep 1
  done
  if [ -z "$healthy" ]; then
    echo "image: $name is not SERVING after 60 s; its log:" >&2
    docker logs --tail 50 "$run_id-$name" >&2 || true
    exit 1
  fi
  echo "image: $name is SERVING (its --health-check passes)"
done

cli=(docker run --rm --label "$run_id" --network "$net" --read-only --cap-drop ALL
  --security-opt no-new-privileges -v "$pki:/pki:ro" "$image"
  --certs /pki/certs --identity https://identity:50051 --cards https://card-issuance:50052
  --activation https://activation:50053 --contribution https://contribution:50054)
"${cli[@]}" seed-demo >/dev/null
"${cli[@]}" demo
echo "image: socsec demo passes against the services running from $image"
