#!/usr/bin/env bash
# PostgreSQL -> Redis benchmark (docs/adapters/redis.md, "Benchmarks"). Not part of the test suite.
#   scripts/bench-redis.sh [--quick] [--rows N] [--steady-rows N] [--rate N] [--latency-seconds N] [--out DIR]
#                          [--batch-size N] [--poll-interval D]
# Builds the tarball and the test classes (offline), unpacks the tarball, and runs
# io.mqdb.distribution.bench.RedisSyncBench on the test class path, with adapters loaded from the tarball's plugins/
# only. Needs PostgreSQL binaries (or MQDB_TEST_POSTGRES) and redis-server, like the integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

mvn -q -B -o package -pl distribution -am -DskipTests \
    dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt -Dmdep.includeScope=test


work=$(mktemp -d /tmp/mqdb-bench-home.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar xzf distribution/target/mqdb-*.tar.gz -C "$work"
home=$(echo "$work"/mqdb-*)

# The adapters must come from the tarball's plugins/ only, as in a node: keep the reactor's adapter jars out.
cp=$(tr ':' '\n' < distribution/target/bench-cp.txt | grep -v '/adapter-[a-z]*/target/' | paste -sd: -)
java -Xms512m -Xmx2g -XX:+UseG1GC \
    -cp "$root/distribution/target/test-classes:$cp" \
    io.mqdb.distribution.bench.RedisSyncBench --home "$home" --out "$root/bench-results" "$@"
