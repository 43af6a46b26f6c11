#!/usr/bin/env bash
# The README's second command: install everything the tests need, start the services they use,
# and run the whole suite (pytest, then mypy). .ci/run calls this.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/infra/setup-python.sh" test
cd "$root"
export PYTHONDONTWRITEBYTECODE=1
# The services the tests use (docs/services.md): the search nodes and PostgreSQL. A service that
# was already up is left running; one started here is stopped on any exit.
started=()
trap 'for node in "${started[@]}"; do "$root/infra/$node.sh" stop; done' EXIT
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
status=0
"$root/.venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
"$root/.venv/bin/python" -m mypy archiver tests benchmarks
