#!/usr/bin/env bash
# PostgreSQL -> Redis only: the "raw" and "sync" workloads of scripts/bench.sh (docs/benchmarks.md). Not a test.
#   scripts/bench-redis.sh [--quick] [--rows N] [--steady-rows N] [--rate N] [--latency-seconds N] [--out DIR]
#                          [--batch-size N] [--poll-interval D] [--jfr] [--no-build]
exec "$(dirname "$0")/bench.sh" --only raw,sync "$@"
