#!/usr/bin/env bash
# The OpenSearch 2.19 node the test suite searches: built from Maven Central jars, run in the
# background on 127.0.0.1, cached between runs. See docs/services.md, section "OpenSearch".
#
#   infra/opensearch.sh start    build once, start the node, wait until it is healthy, print its URL
#   infra/opensearch.sh stop     stop the node that `start` started and wait for it to exit
#   infra/opensearch.sh status   print the URL (exit 0) if the node is up; exit 1 if it is not
#                                healthy, 3 if it is not running
#
# The URL is the only thing written to stdout, so a caller can write
#   export SANGRAH_OPENSEARCH_URL="$(infra/opensearch.sh start)"
#
# Environment:
#   SANGRAH_CACHE                       cache root (default: <repo>/.cache); this script uses
#                                       $SANGRAH_CACHE/opensearch/ only
#   SANGRAH_OPENSEARCH_PORT             HTTP port on 127.0.0.1 (default: 9200)
#   SANGRAH_OPENSEARCH_JAVA_OPTS        JVM options (default: a 256-768 MB heap)
#   SANGRAH_OPENSEARCH_START_SECONDS    how long `start` waits for a healthy node (default: 120)
#   JAVA_HOME                           the Java 17 (or 21) runtime to use (default: java on PATH)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
project="$root/infra/opensearch"
cache="${SANGRAH_CACHE:-$root/.cache}/opensearch"
port="${SANGRAH_OPENSEARCH_PORT:-9200}"
start_seconds="${SANGRAH_OPENSEARCH_START_SECONDS:-120}"
stop_seconds=45
read -r -a java_opts <<<"${SANGRAH_OPENSEARCH_JAVA_OPTS:--Xms256m -Xmx768m}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
launcher="org.sangrah.infra.OpenSearchLauncher"

home="$cache/node"         # path.home of the node: data/, logs/, tmp/; wiped at each start
pid_file="$cache/node.pid"
url_file="$cache/node.url"
log_file="$cache/node.log"
build_log="$cache/build.log"

say() { echo "opensearch: $*" >&2; }
die() { say "$*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found; $2"
}

# The build is keyed by the content of infra/opensearch/ (pom, launcher, log config): an edit
# there gives a new key and so one new build; anything else reuses the jars already in the cache.
build_key() {
  (cd "$project" && find . -type f ! -path './target/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

# Prints the build directory (classes/ and lib/), building it first if this key has none.
build() {
  local key dir partial
  key="$(build_key)"
  dir="$cache/build/$key"
  if [ -f "$dir/complete" ]; then
    echo "$dir"
    return
  fi
  need mvn "install Maven 3.8+ (Debian: apt-get install maven)"
  mkdir -p "$cache/build"
  partial="$dir.partial"
  rm -rf "$partial"
  say "building the node ($key) with Maven; jars not yet in $cache/m2 come from Maven Central (~90 MB on the first build)"
  # The local repository lives in the cache, not ~/.m2, so a CI cache of .cache/ keeps it too.
  if ! mvn -B -q -ntp -f "$project/pom.xml" \
      -Dmaven.repo.local="$cache/m2" -Dsangrah.build.dir="$partial" process-classes >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    die "the Maven build failed; full output in $build_log"
  fi
  [ -f "$partial/classes/org/sangrah/infra/OpenSearchLauncher.class" ] || die "the build made no launcher class; see $build_log"
  mv "$partial" "$dir"
  touch "$dir/complete"
  # Older builds are dead weight (jars of a node still running stay readable once open).
  find "$cache/build" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
  echo "$dir"
}

# The pid from the pid file, if that process is alive and is our launcher (pids get reused).
running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "$launcher" || return 1
  else
    ps -o args= -p "$pid" 2>/dev/null | grep -q "$launcher" || return 1
  fi
  echo "$pid"
}

healthy() {
  curl -sf -m 10 "$1/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

show_log() {
  if [ -f "$log_file" ]; then
    say "last lines of $log_file:"
    tail -n 40 "$log_file" >&2
  fi
}

# Waits for the READY line, then for yellow health; prints the URL. On failure, stops the
# process, shows the log and exits non-zero.
await_node() {
  local pid="$1" deadline url=""
  deadline=$((SECONDS + start_seconds))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      local status=0
      wait "$pid" 2>/dev/null || status=$?
      [ "$status" -ne 127 ] || status="unknown"
      show_log
      rm -f "$pid_file" "$url_file"
      die "the node exited during start-up (status $status)"
    fi
    if [ -z "$url" ]; then
      url="$(grep -m1 -o '^READY http://[^ ]*' "$log_file" 2>/dev/null | cut -d' ' -f2 || true)"
    fi
    if [ -n "$url" ] && healthy "$url"; then
      echo "$url" >"$url_file"
      echo "$url"
      return
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      show_log
      stop_pid "$pid"
      die "the node was not healthy within ${start_seconds} s; it has been stopped"
    fi
    sleep 0.5
  done
}

stop_pid() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + stop_seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "pid $pid still running ${stop_seconds} s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.5
  done
  rm -f "$pid_file" "$url_file"
}

cmd_start() {
  local pid dir
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    await_node "$pid"
    return
  fi
  need curl "install curl (Debian: apt-get install curl)"
  need "$java" "install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
  if port_in_use "$port"; then
    die "port $port on 127.0.0.1 is already taken by another process; stop it or set SANGRAH_OPENSEARCH_PORT"
  fi
  dir="$(build)"
  rm -rf "$home"
  mkdir -p "$home/tmp"
  say "starting on 127.0.0.1:$port; log in $log_file"
  nohup "$java" "${java_opts[@]}" \
    -Djava.io.tmpdir="$home/tmp" \
    -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 \
    -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$home/tmp" \
    -XX:-OmitStackTraceInFastThrow \
    -Djava.locale.providers=SPI,COMPAT \
    -Dio.netty.noUnsafe=true \
    -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dio.netty.allocator.numDirectArenas=0 \
    -Dopensearch.set.netty.runtime.available.processors=false \
    -Dlog4j.configurationFile="$project/log4j2.properties" \
    -Dlog4j2.disable.jmx=true \
    -Dlog4j.shutdownHookEnabled=false \
    -cp "$dir/classes:$dir/lib/*" "$launcher" "$home" "$port" \
    >"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$pid_file"
  await_node "$pid"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$pid_file" "$url_file"
    say "not running"
    return
  fi
  say "stopping pid $pid"
  stop_pid "$pid"
}

cmd_status() {
  local pid url
  if ! pid="$(running_pid)"; then
    say "not running"
    exit 3
  fi
  url="$(cat "$url_file" 2>/dev/null || true)"
  if [ -n "$url" ] && healthy "$url"; then
    say "running (pid $pid)"
    echo "$url"
  else
    say "pid $pid is running but the node is not healthy; see $log_file"
    exit 1
  fi
}

mkdir -p "$cache"
# One start or stop at a time per cache: two test runs must not build or launch over each other.
exec 9>"$cache/lock"
flock -w 600 9 || die "another infra/opensearch.sh holds $cache/lock"

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
