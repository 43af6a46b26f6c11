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
"$root/infra/elasticsearch.sh" status >/dev/null 2>&1 || started+=(elasticsearch)
if SANGRAH_ELASTICSEARCH_URL="$("$root/infra/elasticsearch.sh" start)"; then
  export SANGRAH_ELASTICSEARCH_URL
elif [ "${CI:-}" = true ]; then
  echo "the Elasticsearch node did not come up: that is a failure in CI" >&2
  exit 1
else
  unset SANGRAH_ELASTICSEARCH_URL
  echo "the Elasticsearch node did not come up; its tests will be skipped (in CI this fails)" >&2
fi
# PostgreSQL for the catalog and Airflow tests, on the same terms.
"$root/infra/postgres.sh" status >/dev/null 2>&1 || started+=(postgres)
if SANGRAH_PG_DSN="$("$root/infra/postgres.sh" start)"; then
  export SANGRAH_PG_DSN
elif [ "${CI:-}" = true ]; then
  echo "PostgreSQL did not come up: that is a failure in CI" >&2
  exit 1
else
  unset SANGRAH_PG_DSN
  echo "PostgreSQL did not come up; its tests will be skipped (in CI this fails)" >&2
fi
status=0
"$root/.venv/bin/python" -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
[ "$status" -eq 0 ] || exit "$status"
"$root/.venv/bin/python" -m mypy archiver tests benchmarks
