# Shared by the scripts that run a test service in the background (infra/lib/jvm-node.sh for
# the search nodes, infra/minio.sh): messages, the pid check, the port check, the log's last
# lines, stopping. Sourced, never run. The sourcing script sets service_label, pid_file,
# url_file, log_file, stop_seconds and process_marker (a string in the service's command line).

say() { echo "$service_label: $*" >&2; }
die() { say "$*"; exit 1; }

# The pid from the pid file, if that process is alive and its command line holds
# process_marker (pids get reused).
running_pid() {
  local pid
  [ -f "$pid_file" ] || return 1
  pid="$(cat "$pid_file")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  if [ -r "/proc/$pid/cmdline" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$process_marker" || return 1
  else
    ps -o args= -p "$pid" 2>/dev/null | grep -q -- "$process_marker" || return 1
  fi
  echo "$pid"
}

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found; $2"
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

# SIGTERM, then SIGKILL after stop_seconds; waits for the process to be gone.
stop_pid() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + stop_seconds))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "pid $pid still running ${stop_seconds} s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.2
  done
  rm -f "$pid_file" "$url_file"
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
