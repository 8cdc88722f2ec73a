# Functions to run a private PostgreSQL cluster for socsec. Sourced by
# deploy/run.sh and deploy/test.sh; not meant to be run by itself.
#
# As root, the server runs as the `postgres` user (initdb refuses root); as
# any other user, it runs as that user. If no PostgreSQL binaries are found,
# the `postgresql` package is installed.

pg_log() { printf 'socsec: %s\n' "$*" >&2; }

# Prints the newest PostgreSQL bin directory, installing PostgreSQL if none.
pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    pg_log "PostgreSQL binaries not found; installing the postgresql package"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
    # The package starts a cluster of its own on 5432; ours is separate.
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  fi
  [ -n "$dir" ] || { pg_log "could not find or install PostgreSQL"; return 1; }
  printf '%s\n' "$dir"
}

# Runs a command as the user that owns the cluster.
pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# Prints a free TCP port on 127.0.0.1, starting from $1.
pg_free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  printf '%s\n' "$port"
}

# pg_start DATA_DIR PORT [durable|fast]
# Creates the cluster in DATA_DIR if needed and starts it on 127.0.0.1:PORT.
# `fast` turns off fsync (for throwaway test clusters only).
pg_start() {
  local data=$1 port=$2 mode=${3:-durable} bin
  bin=$(pg_bin_dir) || return 1
  mkdir -p "$data"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$data"
    if ! runuser -u postgres -- test -w "$data"; then
      pg_log "the postgres user cannot write $data (is a parent folder private?); set SOCSEC_DATA_DIR"
      return 1
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    pg_log "creating a PostgreSQL cluster in $data"
    pg_as_owner "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  local options="-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=300"
  # The server's log must never hold personal data. An error's DETAIL
  # carries row values (`Key (id_number)=(…) already exists`, `Failing row
  # contains (…)`): terse verbosity drops DETAIL, HINT, QUERY and CONTEXT.
  # A failing statement is logged with its bound parameters (ID numbers,
  # names, bank card numbers): log_min_error_statement=panic logs no
  # statement for any error, and the parameter lengths of 0 keep values out
  # of any statement that still gets logged. The services also avoid the
  # errors in the first place: expected conflicts are `ON CONFLICT DO NOTHING`.
  options="$options -c log_error_verbosity=terse -c log_min_error_statement=panic"
  options="$options -c log_parameter_max_length_on_error=0 -c log_parameter_max_length=0"
  if [ "$mode" = fast ]; then
    options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  pg_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -o "$options" -w -t 60 start >/dev/null || {
    pg_log "PostgreSQL did not start; its log:"; tail -n 30 "$data/server.log" >&2; return 1; }
  pg_log "PostgreSQL is running on 127.0.0.1:$port"
}

# pg_start_free DATA_DIR MODE BASE: starts the cluster (see pg_start) on a
# free port picked at random from BASE to BASE+1999, and prints the port.
# Another run may take the port between the check and the start: a few
# tries.
pg_start_free() {
  local data=$1 mode=$2 base=$3 port attempt
  for attempt in 1 2 3 4 5; do
    port=$(pg_free_port $((base + RANDOM % 2000)))
    if pg_start "$data" "$port" "$mode"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  return 1
}

# pg_create_database PORT NAME: creates NAME if it does not exist.
pg_create_database() {
  local port=$1 name=$2 bin
  bin=$(pg_bin_dir) || return 1
  if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
  fi
}

pg_stop() {
  local data=$1 bin
  bin=$(pg_bin_dir) || return 1
  [ -f "$data/postmaster.pid" ] || return 0
  pg_as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null || true
}
