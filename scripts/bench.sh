#!/usr/bin/env bash
# The benchmark of mqdb against the machine's raw limits (docs/benchmarks.md). Not part of the test suite.
#
#   scripts/bench.sh [--quick] [--jfr] [--runs N] [--only WORKLOADS] [--mqtt-client paho|hivemq]
#                    [--out DIR] [--no-build]
#
#   --quick     everyday run, under 6 minutes: fewer rows (each figure says how many)
#   --jfr       every node records a JFR file (bench-results/jfr-<date>/); the report lists their top frames
#   --runs N    runs of each headline workload (default 3); figures are medians, each run's value is recorded
#   --only      run these workloads only, a comma list. Default: raw, pg-redis-snapshot, pg-redis-stream,
#               pg-redis-latency, pg-redis-stream-mosquitto, jmh, and pg-cassandra-stream in full mode. Also:
#               the older sync, sizes, fanout, mosquitto, mapdb, cassandra, queue, reads, and queue-stores (the
#               store-backed FIFO queue's put/take per second on each store, docs/store-queue.md), and
#               pg-redis-stream-transform (the stream through a filter, a rename and a key pattern,
#               docs/transforms.md; run it with pg-redis-stream to compare). Keep "raw": ratios need it
#   --mqtt-client  the client of the raw MQTT figure (default paho)
#   --capture trigger|log  the PostgreSQL publisher's capture (default trigger, the node's default)
#   --no-build  use the tarball and test classes of the last build
#   MAVEN_FLAGS (default -o: offline) is passed to Maven.
#
# Builds the tarball and the test classes (never installs), unpacks the tarball, and runs
# io.mqdb.distribution.bench.MqdbBench on the test class path with the adapters loaded from the tarball's plugins/
# only. Every mqdb node runs as bin/mqdb of that tarball, in its own JVM. Servers come from the test fixtures:
# PostgreSQL binaries (or MQDB_TEST_POSTGRES), redis-server, mosquitto, Cassandra where it can start.
# Writes bench-results/<date>.json and .md (<date>-quick.* with --quick, so it never overwrites a full run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build=1
args=()
for a in "$@"; do
  if [ "$a" = "--no-build" ]; then build=0; else args+=("$a"); fi
done

start=$(date +%s)
if [ $build = 1 ]; then
  # shellcheck disable=SC2086
  mvn -q -B ${MAVEN_FLAGS--o} package -pl distribution -am -DskipTests \
      dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt -Dmdep.includeScope=test
  echo "build: $(( $(date +%s) - start )) s"
fi

work=$(mktemp -d /tmp/mqdb-bench-home.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar xzf distribution/target/mqdb-*.tar.gz -C "$work"
home=$(echo "$work"/mqdb-*)

# The adapters must come from the tarball's plugins/ only, as in a node: keep the reactor's adapter jars out.
cp=$(tr ':' '\n' < distribution/target/bench-cp.txt | grep -v '/adapter-[a-z]*/target/' | paste -sd: -)
java -Xms256m -Xmx2g -XX:+UseG1GC -Dmqdb.test.cassandra.lib="$root/adapter-cassandra/target/cassandra-server" \
    -cp "$root/distribution/target/test-classes:$cp" \
    io.mqdb.distribution.bench.MqdbBench --home "$home" --out "$root/bench-results" "${args[@]}"
echo "bench.sh: $(( $(date +%s) - start )) s in all"
