#!/usr/bin/env bash
# The PostgreSQL server the catalog and Airflow tests use: Debian's package, a throwaway cluster
# under the cache, on 127.0.0.1. See docs/services.md, section "PostgreSQL".
#
#   infra/postgres.sh start     install the server if missing, create the cluster once, start it,
#                               create the test role and database, print the DSN
#   infra/postgres.sh stop      stop the cluster that `start` started (fast shutdown) and wait
#   infra/postgres.sh restart   stop, then start (the tests use it to restart the server mid-run)
#   infra/postgres.sh status    print the DSN (exit 0) if the server accepts connections;
#                               exit 3 if it is not running
#
# The DSN (postgresql+psycopg://sangrah:PASSWORD@127.0.0.1:PORT/sangrah_test) is the only thing
# written to stdout, so a caller can write
#   export SANGRAH_PG_DSN="$(infra/postgres.sh start)"
# The role may create databases: the tests give each test a database of its own.
#
# Environment:
#   SANGRAH_CACHE            cache root (default: <repo>/.cache); this script uses
#                            $SANGRAH_CACHE/postgres/ only
#   SANGRAH_POSTGRES_PORT    TCP port on 127.0.0.1 (default: 55432)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SANGRAH_CACHE:-$root/.cache}/postgres"
port="${SANGRAH_POSTGRES_PORT:-55432}"
data="$cache/data"
run="$cache/run"                 # the server's Unix socket and lock file
log_file="$cache/server.log"
password_file="$cache/password"  # the test role's password, made at initdb, mode 0600
role=sangrah
database=sangrah_test

say() { echo "postgres: $*" >&2; }
die() { say "$*"; exit 1; }

# The newest server installed by Debian's packages (/usr/lib/postgresql/<major>/bin).
bindir() {
  local major
  major="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1 || true)"
  [ -n "$major" ] && [ -x "/usr/lib/postgresql/$major/bin/pg_ctl" ] && echo "/usr/lib/postgresql/$major/bin"
}

install_server() {
  [ "$(id -u)" -eq 0 ] || die "the PostgreSQL server is not installed and this is not root; run: sudo apt-get install -y postgresql"
  say "installing Debian's postgresql package (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends postgresql >&2 || die "apt-get install postgresql failed"
  # the package creates and starts a system cluster of its own on 5432; it is not used here
}

# Runs a command as the cluster's owner (the server refuses to run as root), from / so that
# it can always read its working directory, without the lock's descriptor: a server started
# here must not hold the lock for its whole life.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && su postgres -s /bin/sh -c "$(printf '%q ' "$@")" 9>&-)
  else
    "$@" 9>&-
  fi
}

ready() {
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 >/dev/null 2>&1
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

dsn() {
  echo "postgresql+psycopg://$role:$(cat "$password_file")@127.0.0.1:$port/$database"
}

# psql as the cluster's superuser, over the Unix socket (trusted locally, password on TCP)
admin_sql() {
  as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$run" -p "$port" -U postgres -d postgres -tA -c "$1"
}

init_cluster() {
  local owner
  owner="$(id -un)"
  [ "$(id -u)" -eq 0 ] && owner=postgres
  rm -rf "$data" "$run"
  mkdir -p "$cache"
  install -d -m 0700 -o "$owner" "$data"
  install -d -m 0755 -o "$owner" "$run"
  # the server runs as postgres: every directory above the cache must let it through
  local dir="$cache"
  while [ "$dir" != "/" ]; do
    [ -x "$dir" ] || chmod o+x "$dir"
    dir="$(dirname "$dir")"
  done
  say "creating a cluster in $data"
  as_owner "$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$cache/initdb.log" 2>&1 ||
    { tail -n 20 "$cache/initdb.log" >&2; die "initdb failed; full output in $cache/initdb.log"; }
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$password_file")
}

cmd_start() {
  bin="$(bindir)" || { install_server; bin="$(bindir)" || die "no server in /usr/lib/postgresql after the install"; }
  if running; then
    say "already running on 127.0.0.1:$port"
  else
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port on 127.0.0.1 is already taken by another process; stop it or set SANGRAH_POSTGRES_PORT"
    fi
    [ -f "$data/PG_VERSION" ] && [ -s "$password_file" ] || init_cluster
    say "starting on 127.0.0.1:$port; log in $log_file"
    # fsync off: a throwaway cluster for tests, where speed matters and a crash loses nothing
    [ -f "$log_file" ] || { touch "$log_file"; [ "$(id -u)" -ne 0 ] || chown postgres "$log_file"; }
    as_owner "$bin/pg_ctl" -D "$data" -l "$log_file" -w -t 60 start \
      -o "-p $port -k $run -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
      { tail -n 20 "$log_file" >&2; die "the server did not start; see $log_file"; }
  fi
  local deadline=$((SECONDS + 30))
  until ready; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 20 "$log_file" >&2; die "the server does not accept connections on 127.0.0.1:$port; see $log_file"; }
    sleep 0.2
  done
  if [ "$(admin_sql "select count(*) from pg_roles where rolname = '$role'")" = "0" ]; then
    admin_sql "create role $role login createdb password '$(cat "$password_file")'"
  fi
  # each test drops its database WITH (FORCE), which must end whatever is still connected to it
  # (a connection a killed step left behind): that needs pg_signal_backend
  if [ "$(admin_sql "select pg_has_role('$role', 'pg_signal_backend', 'member')")" != "t" ]; then
    admin_sql "grant pg_signal_backend to $role"
  fi
  if [ "$(admin_sql "select count(*) from pg_database where datname = '$database'")" = "0" ]; then
    admin_sql "create database $database owner $role"
  fi
  dsn
}

cmd_stop() {
  bin="$(bindir)" || { say "not installed"; return; }
  if ! running; then
    say "not running"
    return
  fi
  say "stopping"
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
}

cmd_status() {
  bin="$(bindir)" || { say "not installed"; exit 3; }
  if ! running; then
    say "not running"
    exit 3
  fi
  ready || { say "running but not accepting connections; see $log_file"; exit 1; }
  say "running on 127.0.0.1:$port"
  dsn
}

mkdir -p "$cache"
# One start or stop at a time per cache.
exec 9>"$cache/lock"
flock -w 120 9 || die "another infra/postgres.sh holds $cache/lock"

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  restart) cmd_stop; cmd_start ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|restart|status" >&2
    exit 2
    ;;
esac
