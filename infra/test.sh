#!/usr/bin/env bash
# The README's second command: install everything the tests need, start the services they use,
# and run the whole suite (pytest, then mypy). .ci/run calls this.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SANGRAH_CACHE:-$root/.cache}"
unset SANGRAH_MINIO_INSTANCE  # the suite's server is the main instance; tests start others themselves

# The services the tests use (docs/services.md). Services started here are stopped on any exit;
# ones that were already up are left running.
started=()
trap 'for service in ${started[@]+"${started[@]}"}; do "$root/infra/$service.sh" stop || true; done' EXIT

# MinIO is built from source on a first run (minutes): build it while the rest is set up.
minio_build=""
if ! "$root/infra/minio.sh" status >/dev/null 2>&1; then
  mkdir -p "$cache/minio"
  "$root/infra/minio.sh" build >/dev/null 2>"$cache/minio/build.stderr" &
  minio_build=$!
fi

"$root/infra/setup-python.sh" test
# Chromium and ReplayWeb.page for the WACZ replay test (cached after the first run)
if ! "$root/infra/replay.sh" install >/dev/null; then
  if [ "${CI:-}" = true ]; then
    echo "infra/replay.sh install failed: that is a failure in CI" >&2
    exit 1
  fi
  echo "infra/replay.sh install failed; the WACZ replay tests will be skipped (in CI this fails)" >&2
fi
cd "$root"
export PYTHONDONTWRITEBYTECODE=1

"$root/infra/opensearch.sh" status >/dev/null 2>&1 || started+=(opensearch)
SANGRAH_OPENSEARCH_URL="$("$root/infra/opensearch.sh" start)"
export SANGRAH_OPENSEARCH_URL
# A service the tests need but can do without off CI: started (and exported as VARIABLE) when it
# comes up; in CI one that does not is a failure, elsewhere its tests are skipped.
optional_service() {
  local name="$1" variable="$2" value
  "$root/infra/$name.sh" status >/dev/null 2>&1 || started+=("$name")
  if value="$("$root/infra/$name.sh" start)"; then
    export "$variable=$value"
  elif [ "${CI:-}" = true ]; then
    echo "$name did not come up: that is a failure in CI" >&2
    exit 1
  else
    unset "$variable"
    echo "$name did not come up; its tests will be skipped (in CI this fails)" >&2
  fi
}
optional_service elasticsearch SANGRAH_ELASTICSEARCH_URL
optional_service postgres SANGRAH_PG_DSN   # the PostgreSQL catalog and the Airflow tests

# The MinIO server the S3 tests use, with the root credentials of this start.
if [ -n "$minio_build" ]; then
  wait "$minio_build" || echo "the background MinIO build failed (see $cache/minio/build.stderr); starting it builds again" >&2
fi
optional_service minio SANGRAH_S3_ENDPOINT
if [ -n "${SANGRAH_S3_ENDPOINT:-}" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$cache/minio/main/credentials"
  set +a
fi

status=0
"$root/.venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
"$root/.venv/bin/python" -m mypy archiver tests benchmarks
