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
node_label=opensearch
project="$root/infra/opensearch"
cache="${SANGRAH_CACHE:-$root/.cache}/opensearch"
port="${SANGRAH_OPENSEARCH_PORT:-9200}"
port_variable=SANGRAH_OPENSEARCH_PORT
start_seconds="${SANGRAH_OPENSEARCH_START_SECONDS:-120}"
read -r -a java_opts <<<"${SANGRAH_OPENSEARCH_JAVA_OPTS:--Xms256m -Xmx768m}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
java_hint="install a Java 17 runtime (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
launcher="org.sangrah.infra.OpenSearchLauncher"

# shellcheck source=lib/jvm-node.sh
. "$root/infra/lib/jvm-node.sh"

launch_node() {
  local dir="$1"
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
}

node_main "$@"
