#!/usr/bin/env bash
# The bare Elasticsearch 9 node the test suite searches: built from the jars Elastic publishes on
# Maven Central (server and Netty transport only), run in the background on 127.0.0.1 on a
# Java 21+ runtime, cached between runs. See docs/services.md, section "Elasticsearch".
#
#   infra/elasticsearch.sh start    build once, start the node, wait until it is healthy, print its URL
#   infra/elasticsearch.sh stop     stop the node that `start` started and wait for it to exit
#   infra/elasticsearch.sh status   print the URL (exit 0) if the node is up; exit 1 if it is not
#                                   healthy, 3 if it is not running
#
# The URL is the only thing written to stdout, so a caller can write
#   export SANGRAH_ELASTICSEARCH_URL="$(infra/elasticsearch.sh start)"
#
# Environment:
#   SANGRAH_CACHE                          cache root (default: <repo>/.cache); this script uses
#                                          $SANGRAH_CACHE/elasticsearch/ only
#   SANGRAH_ELASTICSEARCH_PORT             HTTP port on 127.0.0.1 (default: 9250); the transport
#                                          takes the first free port in 9400-9499
#   SANGRAH_ELASTICSEARCH_JAVA_OPTS        JVM options (default: a 256-768 MB heap)
#   SANGRAH_ELASTICSEARCH_START_SECONDS    how long `start` waits for a healthy node (default: 120)
#   SANGRAH_ELASTICSEARCH_JAVA_HOME        the Java 21+ JDK that builds and runs the node (default:
#                                          /usr/lib/jvm/temurin-25-jdk-amd64 if present, else JAVA_HOME)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
node_label=elasticsearch
project="$root/infra/elasticsearch"
cache="${SANGRAH_CACHE:-$root/.cache}/elasticsearch"
port="${SANGRAH_ELASTICSEARCH_PORT:-9250}"
port_variable=SANGRAH_ELASTICSEARCH_PORT
start_seconds="${SANGRAH_ELASTICSEARCH_START_SECONDS:-120}"
read -r -a java_opts <<<"${SANGRAH_ELASTICSEARCH_JAVA_OPTS:--Xms256m -Xmx768m}"
default_jdk=/usr/lib/jvm/temurin-25-jdk-amd64
[ -d "$default_jdk" ] || default_jdk="${JAVA_HOME:-}"
jdk="${SANGRAH_ELASTICSEARCH_JAVA_HOME:-$default_jdk}"
java="${jdk:+$jdk/bin/}java"
java_hint="Elasticsearch 9 needs a Java 21+ JDK: install one (e.g. Temurin 25) and set SANGRAH_ELASTICSEARCH_JAVA_HOME"
launcher="org.sangrah.infra.ElasticsearchLauncher"
min_java=21
# Where the node looks for its native libraries (-Des.nativelibs.path).
native_dir="$cache/native"

# shellcheck source=lib/jvm-node.sh
. "$root/infra/lib/jvm-node.sh"

# Maven compiles for Java 21, so it must run on that JDK too, not the machine's default Java.
[ -z "$jdk" ] || build_env=(env "JAVA_HOME=$jdk")

java_feature_version() {
  "$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}

# The system's libzstd (Debian: libzstd1), for the node's zstd codec. The distribution ships its
# own copy; the Maven jars ship none.
find_libzstd() {
  local path
  path="$( (/sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true) |
    sed -n 's/^[[:space:]]*libzstd\.so\.1 (.*x86-64.*) => \(.*\)$/\1/p' | head -n 1)"
  if [ -n "$path" ]; then
    echo "$path"
    return
  fi
  for path in /usr/lib/x86_64-linux-gnu/libzstd.so.1 /lib/x86_64-linux-gnu/libzstd.so.1 /usr/lib64/libzstd.so.1; do
    if [ -e "$path" ]; then
      echo "$path"
      return
    fi
  done
}

before_start() {
  local version libzstd
  version="$(java_feature_version)"
  if [ -z "$version" ] || [ "$version" -lt "$min_java" ]; then
    die "$java is Java ${version:-of unknown version}; $java_hint"
  fi
  libzstd="$(find_libzstd)"
  [ -n "$libzstd" ] || die "libzstd.so.1 not found; install it (Debian: apt-get install libzstd1)"
  # Elastic's own native libraries (vec, parquet-rs) are not on Maven Central: without them the
  # node falls back to Java code. zstd is the one it cannot do without (best_compression).
  mkdir -p "$native_dir"
  ln -sfn "$libzstd" "$native_dir/libzstd.so"
}

launch_node() {
  local dir="$1"
  nohup "$java" "${java_opts[@]}" \
    -Djava.io.tmpdir="$home/tmp" \
    -Djava.awt.headless=true \
    -Dfile.encoding=UTF-8 \
    -Xss1m \
    -XX:+HeapDumpOnOutOfMemoryError -XX:HeapDumpPath="$home/tmp" \
    -XX:-OmitStackTraceInFastThrow \
    -Djava.locale.providers=CLDR \
    -Des.networkaddress.cache.ttl=60 \
    -Des.networkaddress.cache.negative.ttl=10 \
    -Dio.netty.noUnsafe=true \
    -Dio.netty.noKeySetOptimization=true \
    -Dio.netty.recycler.maxCapacityPerThread=0 \
    --enable-native-access=ALL-UNNAMED \
    --add-modules=jdk.incubator.vector \
    -Des.nativelibs.path="$native_dir" \
    -Dorg.elasticsearch.nativeaccess.enableVectorLibrary=false \
    -Dlog4j.configurationFile="$project/log4j2.properties" \
    -Dlog4j2.disable.jmx=true \
    -Dlog4j2.formatMsgNoLookups=true \
    -Dlog4j.shutdownHookEnabled=false \
    -cp "$dir/classes:$dir/lib/*" "$launcher" "$home" "$port" \
    >"$log_file" 2>&1 </dev/null 9>&- &
  pid=$!
}

node_main "$@"
