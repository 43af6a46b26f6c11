#!/usr/bin/env bash
# The MinIO server the S3 tests write WARC files to, with Object Lock: built from source with
# `go install` at a pinned version, run unmodified as a separate process on 127.0.0.1, cached
# between runs. See docs/services.md, section "MinIO".
#
#   infra/minio.sh build     build the binary once (cached) and print its path
#   infra/minio.sh start     build once, start on an EMPTY data directory with new root
#                            credentials, wait until it is live, print its endpoint URL
#   infra/minio.sh resume    start again on the data and credentials of the last start
#                            (an outage and its end, for the fault tests)
#   infra/minio.sh stop      stop the server that `start` started and wait for it to exit
#   infra/minio.sh clean     stop it and remove its data and credentials
#   infra/minio.sh status    print the URL (exit 0) if the server is live; exit 1 if it is
#                            running but not live, 3 if it is not running
#
# The URL is the only thing written to stdout, so a caller can write
#   export SANGRAH_S3_ENDPOINT="$(infra/minio.sh start)"
# The root credentials of each start are written, as shell assignments of SANGRAH_S3_ACCESS_KEY
# and SANGRAH_S3_SECRET_KEY, to $SANGRAH_CACHE/minio/<instance>/credentials (mode 0600); they
# are never printed.
#
# Environment:
#   SANGRAH_CACHE               cache root (default: <repo>/.cache); this script uses
#                               $SANGRAH_CACHE/minio/ and the Go caches in $SANGRAH_CACHE/go/
#   SANGRAH_MINIO_PORT          S3 port on 127.0.0.1 (default: 9000); the console takes port+1
#   SANGRAH_MINIO_INSTANCE      name of this server's state directory (default: main); a second
#                               instance on other ports runs beside the first
#   SANGRAH_MINIO_START_SECONDS how long `start` waits for the server to be live (default: 60)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache_root="${SANGRAH_CACHE:-$root/.cache}"
cache="$cache_root/minio"
port="${SANGRAH_MINIO_PORT:-9000}"
console_port=$((port + 1))
instance="${SANGRAH_MINIO_INSTANCE:-main}"
start_seconds="${SANGRAH_MINIO_START_SECONDS:-60}"
stop_seconds=30

# MinIO publishes no semver tags, so the version is a Go pseudo-version of a commit. This one is
# the repository's final commit (2026-02-12: the last release, RELEASE.2025-10-15T17-29-55Z,
# plus ten fixes and README changes). The proxy here does not serve the last release's own
# pseudo-version (v0.0.0-20251015172955-9e49d5e7a648 answers 403 "not available").
module="github.com/minio/minio"
version="v0.0.0-20260212201848-7aac2a2c5b7c"

bin_dir="$cache/bin/$version"
binary="$bin_dir/minio"
state="$cache/$instance"
data_dir="$state/data"
pid_file="$state/server.pid"
url_file="$state/server.url"
log_file="$state/server.log"
credentials="$state/credentials"
build_log="$cache/build.log"
service_label=minio
process_marker="$data_dir"  # this instance's server, not another instance's
# shellcheck source=infra/lib/service.sh
. "$root/infra/lib/service.sh"


# Prints the binary's path, building it first if this version has none. The module and build
# caches live under the cache root (not ~/go), so a CI cache of .cache/ keeps them too.
build() {
  if [ -x "$binary" ]; then
    echo "$binary"
    return
  fi
  need go "install Go 1.24 or newer (https://go.dev/dl/) and put it on PATH"
  local partial="$bin_dir.partial" started=$SECONDS
  rm -rf "$partial"
  mkdir -p "$partial" "$cache_root/go"
  say "building $module@$version with $(go env GOVERSION) (a first build fills about 2 GB of Go module and build caches and takes minutes); log in $build_log"
  if ! (cd "$cache" && GOTOOLCHAIN=local GOFLAGS=-trimpath CGO_ENABLED=0 GOBIN="$partial" \
      GOMODCACHE="$cache_root/go/mod" GOCACHE="$cache_root/go/build" \
      go install "$module@$version") >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    rm -rf "$partial"
    die "go install $module@$version failed; full output in $build_log"
  fi
  [ -x "$partial/minio" ] || die "go install made no minio binary in $partial; see $build_log"
  rm -rf "$bin_dir"
  mv "$partial" "$bin_dir"
  say "built $binary in $((SECONDS - started)) s"
  # binaries of other versions are dead weight
  find "$cache/bin" -mindepth 1 -maxdepth 1 ! -name "$version" -exec rm -rf {} +
  echo "$binary"
}

live() {
  curl -sf -m 5 "$1/minio/health/live" >/dev/null 2>&1
}


# Waits until the health endpoint answers; prints the URL. On failure, stops the process,
# shows the log and exits non-zero.
await_server() {
  local pid="$1" url="${2:-http://127.0.0.1:$port}" deadline
  deadline=$((SECONDS + start_seconds))
  while ! live "$url"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log
      rm -f "$pid_file" "$url_file"
      die "the server exited during start-up"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log
      stop_pid "$pid"
      die "the server was not live within ${start_seconds} s; it has been stopped"
    fi
    sleep 0.2
  done
  echo "$url" >"$url_file"
  echo "$url"
}

new_credentials() {
  local user secret
  user="sangrah-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  secret="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
  rm -f "$credentials"
  (umask 077 && printf 'SANGRAH_S3_ACCESS_KEY=%s\nSANGRAH_S3_SECRET_KEY=%s\n' "$user" "$secret" >"$credentials")
}

launch() {
  local exe="$1" pid
  need curl "install curl (Debian: apt-get install curl)"
  if port_in_use "$port" || port_in_use "$console_port"; then
    die "port $port or $console_port on 127.0.0.1 is already taken by another process; stop it or set SANGRAH_MINIO_PORT"
  fi
  # shellcheck disable=SC1090
  . "$credentials"
  say "starting $instance on 127.0.0.1:$port (console :$console_port); data in $data_dir, log in $log_file"
  # MINIO_CI_CD lets a single drive sit on the root disk, as it does on test machines.
  MINIO_ROOT_USER="$SANGRAH_S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$SANGRAH_S3_SECRET_KEY" \
    MINIO_CI_CD=1 MINIO_UPDATE=off MINIO_BROWSER=off \
    nohup "$exe" server "$data_dir" --quiet --anonymous \
      --address "127.0.0.1:$port" --console-address "127.0.0.1:$console_port" \
      >"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"
  await_server "$pid"
}

cmd_start() {
  local pid exe
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    await_server "$pid" "$(cat "$url_file" 2>/dev/null || true)"
    return
  fi
  exe="$(build)"
  mkdir -p "$state"
  # Locked objects are only files to this process's owner: a fresh directory is a fresh server.
  rm -rf "$data_dir"
  mkdir -p "$data_dir"
  new_credentials
  launch "$exe"
}

cmd_resume() {
  local pid
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    await_server "$pid" "$(cat "$url_file" 2>/dev/null || true)"
    return
  fi
  [ -x "$binary" ] && [ -f "$credentials" ] && [ -d "$data_dir" ] || die "nothing to resume in $state; use: infra/minio.sh start"
  launch "$binary"
}

cmd_clean() {
  local pid
  # its data goes too, so there is nothing for a graceful shutdown to save
  if pid="$(running_pid)"; then
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -rf "$state"
}

cmd_status() {
  local pid url
  if ! pid="$(running_pid)"; then
    say "not running"
    exit 3
  fi
  url="$(cat "$url_file" 2>/dev/null || true)"
  if [ -n "$url" ] && live "$url"; then
    say "running (pid $pid)"
    echo "$url"
  else
    say "pid $pid is running but the server is not live; see $log_file"
    exit 1
  fi
}

mkdir -p "$cache"
# One build, start or stop at a time per cache: two runs must not build or launch over each other.
exec 9>"$cache/lock"
flock -w 1800 9 || die "another infra/minio.sh holds $cache/lock"

case "${1:-}" in
  build) build ;;
  start) cmd_start ;;
  resume) cmd_resume ;;
  stop) cmd_stop ;;
  clean) cmd_clean ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 build|start|resume|stop|clean|status" >&2
    exit 2
    ;;
esac
