#!/usr/bin/env bash
# capture: log (binlog) against capture: trigger on MariaDB (docs/adapters/jdbc.md): inserts/s into a captured
# table and captured changes/s, per mode, on one server with a row-format binlog. Prints each round and the medians.
#
#   scripts/bench-mariadb-capture.sh             # 50,000 rows per figure, 3 rounds
#   ROWS=10000 scripts/bench-mariadb-capture.sh  # quicker
#   MAVEN_FLAGS=-o scripts/bench-mariadb-capture.sh   # offline
#
# MariaDB comes from the test fixture: MQDB_TEST_MARIADB_BINLOG, else the local mariadbd on a free loopback port,
# else Testcontainers.
set -euo pipefail
cd "$(dirname "$0")/.."

mvn -q -B ${MAVEN_FLAGS:-} -pl adapter-jdbc -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/bench-cp.txt -Dmdep.includeScope=test

java -Xmx1g -Drows="${ROWS:-50000}" \
    -cp "adapter-jdbc/target/test-classes:adapter-jdbc/target/classes:core/target/test-classes:core/target/classes:$(cat adapter-jdbc/target/bench-cp.txt)" \
    io.mqdb.adapter.jdbc.MariaDbCaptureBench
