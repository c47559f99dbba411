#!/usr/bin/env bash
# Trigger-capture benchmark of the jdbc adapter on PostgreSQL (docs/benchmarks.md): plain inserts/s, inserts/s with
# mqdb's capture triggers, captured changes/s. Writes bench-results/jdbc-<date>.json and prints a table.
#
#   scripts/bench-jdbc.sh            # 100,000 rows per figure, 3 rounds
#   ROWS=20000 scripts/bench-jdbc.sh # quicker
#   MAVEN_FLAGS=-o scripts/bench-jdbc.sh   # offline
#
# PostgreSQL comes from the test fixture: MQDB_TEST_POSTGRES, else the local binaries on a free loopback port
# (fsync off), else Testcontainers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Compile core and the adapter with their tests, and write the adapter's test class path. In the reactor, core's
# classes and test classes resolve to core/target/{classes,test-classes}: nothing is installed.
mvn -q -B ${MAVEN_FLAGS:-} -pl core,adapter-jdbc test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-cp.txt -Dmdep.includeScope=test

out="bench-results/jdbc-$(date +%Y-%m-%d).json"
mkdir -p bench-results
java -Xmx1g -Drows="${ROWS:-100000}" \
    -cp "adapter-jdbc/target/test-classes:adapter-jdbc/target/classes:$(cat adapter-jdbc/target/bench-cp.txt)" \
    io.mqdb.adapter.jdbc.JdbcCaptureBench "$out"
