# Shared by infra/opensearch.sh and infra/elasticsearch.sh: build a small Maven project of
# Central jars once per content key, start its launcher in the background, wait until the node
# is healthy, stop it. Sourced, never run. See docs/services.md.
#
# The sourcing script sets, before calling `node_main "$@"`:
#   node_label       name in messages and in the lock error ("opensearch")
#   project          the Maven project directory (infra/<name>/)
#   cache            this node's cache directory ($SANGRAH_CACHE/<name>)
#   port             the HTTP port on 127.0.0.1
#   port_variable    the environment variable that sets it (named in the port-taken error)
#   start_seconds    how long `start` waits for a healthy node
#   java             the java binary of the runtime the node runs on
#   java_hint        what to install or set when that binary is missing
#   launcher         the launcher's main class
# and defines `launch_node BUILD_DIR`, which starts the JVM in the background with stdout and
# stderr in "$log_file" and fd 9 closed, and sets `pid` to its process id. It may define
# `build_env`, a command prefix for Maven (e.g. `env JAVA_HOME=...`), and `before_start`, run
# once before each start (after the port check, before the build).

stop_seconds=45
home="$cache/node"         # path.home of the node: data/, logs/, tmp/; wiped at each start
pid_file="$cache/node.pid"
url_file="$cache/node.url"
log_file="$cache/node.log"
build_log="$cache/build.log"
build_env=()

service_label="$node_label"
process_marker="$launcher"
# shellcheck source=infra/lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/service.sh"

# The build is keyed by the content of the Maven project (pom, launcher, log config): an edit
# there gives a new key and so one new build; anything else reuses the jars already in the cache.
build_key() {
  (cd "$project" && find . -type f ! -path './target/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-16
}

# Prints the build directory (classes/ and lib/), building it first if this key has none.
build() {
  local key dir partial class_file
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
  say "building the node ($key) with Maven; jars not yet in $cache/m2 come from Maven Central"
  # The local repository lives in the cache, not ~/.m2, so a CI cache of .cache/ keeps it too.
  if ! "${build_env[@]}" mvn -B -q -ntp -f "$project/pom.xml" \
      -Dmaven.repo.local="$cache/m2" -Dsangrah.build.dir="$partial" process-classes >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    die "the Maven build failed; full output in $build_log"
  fi
  class_file="$partial/classes/${launcher//.//}.class"
  [ -f "$class_file" ] || die "the build made no launcher class; see $build_log"
  mv "$partial" "$dir"
  touch "$dir/complete"
  # Older builds are dead weight (jars of a node still running stay readable once open).
  find "$cache/build" -mindepth 1 -maxdepth 1 ! -name "$key" -exec rm -rf {} +
  echo "$dir"
}

healthy() {
  curl -sf -m 10 "$1/_cluster/health?wait_for_status=yellow&timeout=5s" >/dev/null 2>&1
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

before_start() { :; }

cmd_start() {
  local pid dir
  if pid="$(running_pid)"; then
    say "already running (pid $pid)"
    await_node "$pid"
    return
  fi
  need curl "install curl (Debian: apt-get install curl)"
  need "$java" "$java_hint"
  if port_in_use "$port"; then
    die "port $port on 127.0.0.1 is already taken by another process; stop it or set $port_variable"
  fi
  before_start
  dir="$(build)"
  rm -rf "$home"
  mkdir -p "$home/tmp"
  say "starting on 127.0.0.1:$port; log in $log_file"
  launch_node "$dir"
  echo "$pid" >"$pid_file"
  await_node "$pid"
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

node_main() {
  mkdir -p "$cache"
  # One start or stop at a time per cache: two test runs must not build or launch over each other.
  exec 9>"$cache/lock"
  flock -w 600 9 || die "another infra/$node_label.sh holds $cache/lock"

  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *)
      echo "usage: $0 start|stop|status" >&2
      exit 2
      ;;
  esac
}
